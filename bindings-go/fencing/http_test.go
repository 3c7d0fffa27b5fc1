package fencing_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/elect-dev/elect/bindings-go/fencing"
)

// server is a real HTTP server whose handler records the tokens it accepted, in order;
// /slow signals entered and waits for release.
type server struct {
	*httptest.Server
	gate    *fencing.Gate
	mu      sync.Mutex
	writes  []string
	entered chan struct{}
	release chan struct{}
}

func newServer(t *testing.T, require bool) *server {
	s := &server{gate: &fencing.Gate{}, entered: make(chan struct{}), release: make(chan struct{})}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(s.entered)
			<-s.release
		}
		s.mu.Lock()
		s.writes = append(s.writes, r.Header.Get(fencing.HeaderToken)+r.URL.Path)
		s.mu.Unlock()
	})
	s.Server = httptest.NewServer(fencing.Handler(h, fencing.Options{Gate: s.gate, Require: require}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) post(t *testing.T, path, election string, token uint64) int {
	client := &http.Client{Transport: &fencing.Transport{Election: election, Token: func() uint64 { return token }}}
	resp, err := client.Post(s.URL+path, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == http.StatusConflict && !strings.Contains(string(body), "stale fencing token") {
		t.Fatalf("409 without the reason: %s", body)
	}
	return resp.StatusCode
}

func (s *server) got() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.writes, " ")
}

func TestMiddlewareRejectsAnOlderTokenWith409(t *testing.T) {
	s := newServer(t, false)
	for _, c := range []struct {
		path     string
		election string
		token    uint64
		status   int
	}{{"/a", "jobs", 5, 200}, {"/b", "jobs", 7, 200}, {"/c", "jobs", 5, 409}, {"/d", "jobs", 7, 200}, {"/e", "other", 5, 200}} {
		if got := s.post(t, c.path, c.election, c.token); got != c.status {
			t.Fatalf("%s under %d: %d, want %d", c.path, c.token, got, c.status)
		}
	}
	if resp, err := http.Post(s.URL+"/f", "text/plain", nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("unfenced request: %v %v", resp, err)
	}
	if got := s.got(); got != "5/a 7/b 7/d 5/e /f" {
		t.Fatalf("writes %q", got)
	}
}

func TestMiddlewareAdmitsANewerTokenAfterOlderRequestsFinish(t *testing.T) {
	s := newServer(t, false)
	status := make(chan string, 2)
	go func() { status <- fmt.Sprint("slow ", s.post(t, "/slow", "jobs", 5)) }()
	<-s.entered
	go func() { status <- fmt.Sprint("new ", s.post(t, "/new", "jobs", 7)) }()
	deadline := time.Now().Add(15 * time.Second)
	for s.gate.Highest("jobs") != 7 { // the newer request is waiting in the gate
		if time.Now().After(deadline) {
			t.Fatal("the newer request never reached the gate")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := s.post(t, "/late", "jobs", 5); got != 409 {
		t.Fatalf("older token while a newer one waits: %d", got)
	}
	close(s.release)
	got := map[string]bool{<-status: true, <-status: true}
	if !got["slow 200"] || !got["new 200"] {
		t.Fatalf("statuses %v", got)
	}
	if got := s.got(); got != "5/slow 7/new" {
		t.Fatalf("writes %q", got)
	}
}

func TestBadOrMissingHeaders(t *testing.T) {
	s := newServer(t, true)
	for _, h := range []map[string]string{
		{},
		{fencing.HeaderToken: "3"},
		{fencing.HeaderElection: "jobs", fencing.HeaderToken: "-1"},
		{fencing.HeaderElection: "jobs", fencing.HeaderToken: "0"},
	} {
		req, _ := http.NewRequest("POST", s.URL, nil)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := 400
		if len(h) == 0 {
			want = 428
		}
		if resp.StatusCode != want {
			t.Fatalf("headers %v: %d, want %d", h, resp.StatusCode, want)
		}
	}
	if got := s.got(); got != "" {
		t.Fatalf("refused requests reached the handler: %q", got)
	}
	client := &http.Client{Transport: &fencing.Transport{Election: "jobs", Token: func() uint64 { return 0 }}}
	if _, err := client.Get(s.URL); err == nil || !strings.Contains(err.Error(), "not leading") || errors.Is(err, fencing.ErrStale) {
		t.Fatalf("a request while not leading: %v", err)
	}
}
