package main

import (
	"bufio"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is a child process of this program, with its output lines on a channel.
type proc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
}

func spawn(role string, args ...string) (*proc, error) {
	cmd := exec.Command(os.Args[0], append([]string{role}, args...)...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, stdin: stdin, lines: make(chan string, 64)}
	go func() {
		scanner := bufio.NewScanner(stdout)
		for scanner.Scan() {
			p.lines <- scanner.Text()
		}
		close(p.lines)
	}()
	return p, nil
}

func (p *proc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
}

// expect waits for a line `<word> <unix ns>` and returns the time.
func (p *proc) expect(word string, within time.Duration) (time.Time, error) {
	timeout := time.After(within)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				return time.Time{}, fmt.Errorf("candidate %d exited waiting for %q", p.cmd.Process.Pid, word)
			}
			fields := strings.Fields(line)
			if len(fields) == 2 && fields[0] == word {
				ns, err := strconv.ParseInt(fields[1], 10, 64)
				return time.Unix(0, ns), err
			}
			if fields[0] == "error" {
				return time.Time{}, fmt.Errorf("candidate: %s", line)
			}
		case <-timeout:
			return time.Time{}, fmt.Errorf("no %q within %v", word, within)
		}
	}
}

// candidates is how many candidate processes of one library take part in the failover rounds.
const candidates = 3

// elected waits for `elected <ns>` from any of procs but `not` and returns which one and when.
func elected(procs []*proc, not *proc, within time.Duration) (*proc, time.Time, error) {
	var cases []reflect.SelectCase
	var from []*proc
	for _, p := range procs {
		if p != not {
			cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(p.lines)})
			from = append(from, p)
		}
	}
	cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(time.After(within))})
	for {
		i, v, ok := reflect.Select(cases)
		if i == len(from) {
			return nil, time.Time{}, fmt.Errorf("no successor elected within %v", within)
		}
		if !ok {
			return nil, time.Time{}, fmt.Errorf("candidate %d exited", from[i].cmd.Process.Pid)
		}
		fields := strings.Fields(v.String())
		if len(fields) == 2 && fields[0] == "elected" {
			ns, err := strconv.ParseInt(fields[1], 10, 64)
			return from[i], time.Unix(0, ns), err
		}
		if len(fields) > 0 && fields[0] == "error" {
			return nil, time.Time{}, fmt.Errorf("candidate: %s", v.String())
		}
	}
}

// failover runs graceful rounds (the leader resigns) then crash rounds (the leader is
// SIGKILLed and replaced by a fresh candidate), with three candidates of one library.
func failover(lib, target string, ttl time.Duration, rounds, crashRounds int) (graceful, crash []time.Duration, err error) {
	name := fmt.Sprintf("failover-%d-%s", os.Getpid(), lib)
	args := []string{"-lib", lib, "-target", target, "-name", name, "-ttl", ttl.String()}
	within := 5*ttl + 10*time.Second
	procs := make([]*proc, 0, candidates)
	defer func() {
		for _, p := range procs {
			p.kill()
		}
	}()
	for i := 0; i < candidates; i++ {
		p, err := spawn("candidate", args...)
		if err != nil {
			return nil, nil, err
		}
		procs = append(procs, p)
	}
	leader, _, err := elected(procs, nil, within)
	if err != nil {
		return
	}
	time.Sleep(500 * time.Millisecond) // lets the others get in line before round 1
	for i := 0; i < rounds; i++ {
		fmt.Fprintln(leader.stdin, "resign")
		var began, took time.Time
		if began, err = leader.expect("resigned", within); err != nil {
			return
		}
		next := leader
		if next, took, err = elected(procs, leader, within); err != nil {
			return
		}
		graceful = append(graceful, took.Sub(began))
		leader = next
		time.Sleep(2 * repause) // the resigner is back in line
	}
	for i := 0; i < crashRounds; i++ {
		began := time.Now()
		leader.kill()
		next, took, err := elected(procs, leader, within)
		if err != nil {
			return nil, nil, err
		}
		crash = append(crash, took.Sub(began))
		for j, p := range procs {
			if p == leader {
				if procs[j], err = spawn("candidate", args...); err != nil {
					return nil, nil, err
				}
			}
		}
		leader = next
		// The replacement gets in line; then a random extra pause so that kills do not fall
		// in step with etcd's 500 ms expiry loop (each round starts just after one of its runs,
		// and a fixed pause would measure the same phase every time).
		time.Sleep(500*time.Millisecond + time.Duration(rand.Int63n(int64(time.Second))))
	}
	return graceful, crash, nil
}

// idleCPU is the CPU time (user + system) that a process holding n leading elections spends
// per election per minute while nothing happens, in milliseconds, and the resolution of that
// figure (the kernel counts CPU time in 10 ms ticks).
func idleCPU(lib, target string, n int, window, ttl time.Duration) (cpu, resolution float64, err error) {
	p, err := spawn("idle", "-lib", lib, "-target", target, "-n", strconv.Itoa(n), "-ttl", ttl.String())
	if err != nil {
		return 0, 0, err
	}
	defer p.kill()
	select {
	case line := <-p.lines:
		if line != "ready" {
			return 0, 0, fmt.Errorf("idle process: %s", line)
		}
	case <-time.After(2 * time.Minute):
		return 0, 0, fmt.Errorf("idle process not ready")
	}
	time.Sleep(2 * time.Second) // start-up work settles
	before, err := cpuTime(p.cmd.Process.Pid)
	if err != nil {
		return 0, 0, err
	}
	time.Sleep(window)
	after, err := cpuTime(p.cmd.Process.Pid)
	if err != nil {
		return 0, 0, err
	}
	perElectionMinute := func(d time.Duration) float64 {
		return float64(d) / float64(time.Millisecond) * float64(time.Minute) / float64(window) / float64(n)
	}
	return perElectionMinute(after - before), perElectionMinute(time.Second / ticks), nil
}

// ticks is sysconf(_SC_CLK_TCK) on Linux: /proc counts CPU time in 1/100 s.
const ticks = 100

// cpuTime reads utime + stime of a process from /proc.
func cpuTime(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / ticks, nil
}

// percentile is the p-th percentile of values by nearest rank, the one definition of every
// benchmark of the project (bench/README.md): the smallest value such that at least p % of the
// values are at or below it.
func percentile(values []time.Duration, p int) time.Duration {
	if len(values) == 0 {
		return 0
	}
	sorted := append([]time.Duration(nil), values...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	rank := (len(sorted)*p + 99) / 100 // ceil(p/100 * n)
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}
