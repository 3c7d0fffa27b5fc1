package elect_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	elect "github.com/elect-dev/elect/bindings-go"
)

// collector is an slog.Handler that sends each record about one election to a channel.
type collector struct {
	mu       sync.Mutex
	by       map[string]chan slog.Record
	minLevel slog.Level
}

var logs = &collector{by: map[string]chan slog.Record{}, minLevel: slog.LevelInfo}

func (c *collector) Enabled(_ context.Context, l slog.Level) bool { return l >= c.minLevel }
func (c *collector) WithAttrs([]slog.Attr) slog.Handler           { return c }
func (c *collector) WithGroup(string) slog.Handler                { return c }
func (c *collector) Handle(_ context.Context, r slog.Record) error {
	election := attrs(r)["election"]
	c.mu.Lock()
	ch := c.by[election]
	c.mu.Unlock()
	if ch != nil {
		ch <- r
	}
	return nil
}

// records of election name, from now on.
func (c *collector) of(t *testing.T, name string) chan slog.Record {
	if err := elect.SetLogHandler(c); err != nil {
		t.Fatal(err)
	}
	ch := make(chan slog.Record, 1024)
	c.mu.Lock()
	c.by[name] = ch
	c.mu.Unlock()
	return ch
}

func attrs(r slog.Record) map[string]string {
	m := map[string]string{}
	r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.String(); return true })
	return m
}

func expectRecord(t *testing.T, ch chan slog.Record, level slog.Level, prefix string) slog.Record {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case r := <-ch:
			if r.Level == level && strings.HasPrefix(r.Message, prefix) {
				return r
			}
		case <-deadline:
			t.Fatalf("no %v record %q within %v", level, prefix, wait)
		}
	}
}

// leadingElection opens uri as candidate id of election name and waits until it leads; closed when
// the test ends.
func leadingElection(t *testing.T, uri, name, id string) *elect.Election {
	t.Helper()
	ctx := context.Background()
	e, err := elect.Open(ctx, uri, name, elect.WithID(id))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	if err := e.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestLeadershipChangesReachSlogAndStats(t *testing.T) {
	name := "go-observe-" + strconv.Itoa(os.Getpid())
	ch := logs.of(t, name)
	ctx := context.Background()
	e := leadingElection(t, "file://"+t.TempDir()+"?ttl=2s", name, "g1")
	term := strconv.FormatUint(e.FencingToken(), 10)
	a := attrs(expectRecord(t, ch, slog.LevelInfo, "elected"))
	if a["id"] != "g1" || a["term"] != term || a["target"] != "elect_core::event_log" {
		t.Fatalf("elected record attributes: %v", a)
	}
	s, err := e.Stats()
	if err != nil || s.TermsWon != 1 || !s.StoreConnected || !s.Healthy || len(s.Revocations) != 6 {
		t.Fatalf("stats while leading: %+v %v", s, err)
	}
	if s.LeaseRemaining <= 0 || s.LeaseRemaining > 2*time.Second {
		t.Fatalf("lease remaining %v", s.LeaseRemaining)
	}
	if err := e.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	if a := attrs(expectRecord(t, ch, slog.LevelInfo, "revoked")); !strings.Contains(a["fields"], "reason=resigned") {
		t.Fatalf("revoked record attributes: %v", a)
	}
	if s, _ := e.Stats(); s.Revocations["resigned"] != 1 {
		t.Fatalf("revocations: %v", s.Revocations)
	}
	probe := httptest.NewRecorder()
	elect.HealthzHandler(e).ServeHTTP(probe, httptest.NewRequest("GET", "/healthz", nil))
	if probe.Code != http.StatusOK || e.Healthz() != nil {
		t.Fatalf("healthz of a live election: %d %s", probe.Code, probe.Body)
	}
	e.Close()
	probe = httptest.NewRecorder()
	elect.HealthzHandler(e).ServeHTTP(probe, httptest.NewRequest("GET", "/healthz", nil))
	if probe.Code != http.StatusServiceUnavailable || e.Healthz() == nil {
		t.Fatalf("healthz of a closed election: %d %s", probe.Code, probe.Body)
	}
}

func TestAKilledRedisServerArrivesAsWarnings(t *testing.T) {
	script, _ := filepath.Abs("../scripts/servers/redis")
	if _, err := os.Stat(script); err != nil {
		t.Skip("no scripts/servers/redis")
	}
	instance := "goobs" + strconv.Itoa(os.Getpid())
	out, err := exec.Command(script, "start", instance).Output()
	if err != nil {
		t.Fatalf("redis start: %v", err)
	}
	defer exec.Command(script, "stop", instance).Run()
	vars := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "="); ok {
			vars[k] = strings.Trim(v, "'")
		}
	}
	name := "go-observe-redis-" + strconv.Itoa(os.Getpid())
	ch := logs.of(t, name)
	e := leadingElection(t, vars["ELECT_REDIS_URI"]+"?ttl=2s&renew=300ms&retry=200ms&connect_timeout=1s", name, "g2")
	term := strconv.FormatUint(e.FencingToken(), 10)
	pid, _ := strconv.Atoi(vars["ELECT_REDIS_PID"])
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	a := attrs(expectRecord(t, ch, slog.LevelWarn, "revoked"))
	if a["id"] != "g2" || a["term"] != term {
		t.Fatalf("revoked record attributes: %v", a)
	}
	s, err := e.Stats()
	if err != nil || s.StoreErrors < 1 || s.StoreConnected || s.LeaseRemaining != 0 {
		t.Fatalf("stats after the fault: %+v %v", s, err)
	}
	if lost := s.Revocations["store_unreachable"] + s.Revocations["session_lost"] + s.Revocations["lease_expired"]; lost != 1 {
		t.Fatalf("revocations: %v", s.Revocations)
	}
}
