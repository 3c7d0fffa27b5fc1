package elect_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	elect "github.com/elect-dev/elect/bindings-go"
	"github.com/elect-dev/elect/bindings-go/internal/agent"
)

// wait bounds every wait of these tests; waits end as soon as the awaited event arrives.
const wait = 15 * time.Second

// TestMain turns the test binary into a scenario agent when a test starts it as a child
// process, so multi-process tests need no separately built program.
func TestMain(m *testing.M) {
	if os.Getenv("ELECT_GO_TEST_AGENT") == "1" {
		agent.Run(os.Stdin, os.Stdout)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// store is one backend the tests run against.
type store struct {
	name string
	uri  string // with short lease options, so crash takeovers are quick on server stores
}

// stores: the file backend always, and each server store whose URI scripts/test exported
// (ELECT_ETCD_URI, ELECT_ZK_URI, ...; a store whose backend is not built yet is skipped).
func stores(t *testing.T) []store {
	// silence: a resigner stays out of line for a while, so the candidate already waiting
	// takes over (the file store's flock wakes waiters in no particular order).
	const options = "ttl=2s&renew=300ms&silence=300ms"
	out := []store{{"file", withQuery("file://"+t.TempDir(), options)}}
	for _, server := range []string{"etcd", "zk", "redis", "postgres", "mysql"} {
		if uri := os.Getenv("ELECT_" + strings.ToUpper(server) + "_URI"); uri != "" {
			out = append(out, store{server, withQuery(uri, options)})
		}
	}
	return out
}

func withQuery(uri, query string) string {
	if strings.Contains(uri, "?") {
		return uri + "&" + query
	}
	return uri + "?" + query
}

// forEachStore runs f as a subtest per store, skipping a store this build does not include.
func forEachStore(t *testing.T, f func(t *testing.T, s store)) {
	for _, s := range stores(t) {
		t.Run(s.name, func(t *testing.T) {
			probe, err := elect.Open(context.Background(), s.uri, "probe")
			if errors.Is(err, elect.ErrUnsupported) {
				t.Skipf("%s backend not in this build: %v", s.name, err)
			}
			if err != nil {
				t.Fatalf("open %s: %v", s.name, err)
			}
			probe.Close()
			f(t, s)
		})
	}
}

// uniqueName gives each test its own election, so runs against a shared server never mix.
func uniqueName(t *testing.T) string {
	clean := strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
	return fmt.Sprintf("go-%s-%d", clean, time.Now().UnixNano())
}

// open opens an election with an event channel and closes it when the test ends.
func open(t *testing.T, uri, name string, opts ...elect.Option) (*elect.Election, <-chan elect.Event) {
	t.Helper()
	e, err := elect.Open(context.Background(), uri, name, opts...)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e, e.Events()
}

// next returns the next event of kind `kind`, skipping others, or fails after `wait`.
func next(t *testing.T, events <-chan elect.Event, kind elect.EventKind) elect.Event {
	t.Helper()
	timeout := time.After(wait)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("events closed while waiting for %v", kind)
			}
			if ev.Kind == kind {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %v event within %v", kind, wait)
		}
	}
}

// line is one line an agent process wrote, tagged with the agent's index.
type line struct {
	agent int
	text  string
}

// proc is an agent child process speaking the scenario protocol.
type proc struct {
	t       *testing.T
	index   int
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	replies chan string
}

// startAgent starts the test binary as agent number index; its event lines go to events.
func startAgent(t *testing.T, index int, events chan<- line) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "ELECT_GO_TEST_AGENT=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, index: index, cmd: cmd, stdin: stdin, replies: make(chan string, 16)}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	go func() {
		scanner := bufio.NewScanner(stdout)
		for scanner.Scan() {
			if text := scanner.Text(); strings.HasPrefix(text, "event ") {
				events <- line{index, text}
			} else {
				p.replies <- text
			}
		}
		close(p.replies)
	}()
	return p
}

// req sends one request and returns the reply line.
func (p *proc) req(request string) string {
	p.t.Helper()
	if _, err := io.WriteString(p.stdin, request+"\n"); err != nil {
		p.t.Fatalf("agent %d: write %q: %v", p.index, request, err)
	}
	select {
	case reply, ok := <-p.replies:
		if !ok {
			p.t.Fatalf("agent %d exited before answering %q", p.index, request)
		}
		return reply
	case <-time.After(wait):
		p.t.Fatalf("agent %d: no reply to %q within %v", p.index, request, wait)
	}
	return ""
}

// must sends a request whose reply must be `want`.
func (p *proc) must(request, want string) {
	p.t.Helper()
	if got := p.req(request); got != want {
		p.t.Fatalf("agent %d: %q replied %q, want %q", p.index, request, got, want)
	}
}

// quit asks the agent to exit and checks that it answers and exits with status 0.
func (p *proc) quit() {
	p.t.Helper()
	p.must("quit", "ok")
	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			p.t.Fatalf("agent %d: quit: %v", p.index, err)
		}
	case <-time.After(wait):
		p.t.Fatalf("agent %d did not exit after quit", p.index)
	}
}

func (p *proc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
}

// awaitEvent waits for an event line starting with prefix from any agent, skipping others.
func awaitEvent(t *testing.T, events <-chan line, prefix string) line {
	t.Helper()
	timeout := time.After(wait)
	for {
		select {
		case l := <-events:
			if strings.HasPrefix(l.text, prefix) {
				return l
			}
		case <-timeout:
			t.Fatalf("no %q event within %v", prefix, wait)
		}
	}
}

// termOf reads the term of an "event elected N" or "event revoked N reason" line.
func termOf(t *testing.T, l line) uint64 {
	t.Helper()
	fields := strings.Fields(l.text)
	n, err := strconv.ParseUint(fields[2], 10, 64)
	if err != nil {
		t.Fatalf("bad event line %q", l.text)
	}
	return n
}
