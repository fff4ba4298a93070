package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// procStats is what one process costs once it is ready, touched and settled.
type procStats struct {
	RSSKiB  float64 `json:"rss_kib"`
	Threads int     `json:"threads"`
	// Ready is the wall time from exec to the ready line.
	Ready time.Duration `json:"ready_ns"`
	// Startup is the start-up time the process reports in its ready line: the binary's
	// fleet.StartupTime, or a child's.
	Startup time.Duration `json:"startup_ns"`
	// Heap is the live heap and goroutines a child reports; nil for the real binary.
	Heap *heapStats `json:"heap,omitempty"`
}

// heapStats is the live heap and goroutine count of a process.
type heapStats struct {
	HeapBytes  uint64 `json:"heap_bytes"`
	StackBytes uint64 `json:"stack_bytes"`
	Goroutines int    `json:"goroutines"`
	// What a child held before its forced GC (live and garbage), and its RSS once the
	// garbage was collected and returned to the OS: together they tell how much of the idle
	// RSS is the GC's headroom rather than the clusters themselves.
	HeapBeforeGCBytes uint64  `json:"heap_before_gc_bytes,omitempty"`
	RSSAfterFreeKiB   float64 `json:"rss_after_free_kib,omitempty"`
	// AfterFree is where the runtime's memory is once garbage is returned, for a breakdown.
	AfterFree map[string]uint64 `json:"memstats_after_free,omitempty"`
}

// measureProcess runs argv with GOMAXPROCS=2 until it prints a line starting with ready,
// calls touch with the lines printed so far, waits settle, reads VmRSS from /proc and, with
// askHeap, asks the child for its heap. Then it stops the process.
func measureProcess(ctx context.Context, argv []string, ready string, settle time.Duration, askHeap bool, touch func(lines []string) error) (procStats, error) {
	var st procStats
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	p, err := startProc(argv)
	if err != nil {
		return st, err
	}
	defer p.stop()

	readyLine, err := p.next(ctx, ready)
	if err != nil {
		return st, err
	}
	st.Ready = time.Since(p.start)
	st.Startup = reportedStartup(readyLine)
	if err := touch(p.seen); err != nil {
		return st, err
	}
	time.Sleep(settle)
	if st.RSSKiB, st.Threads, err = readStatus(p.pid()); err != nil {
		return st, err
	}
	if askHeap {
		// After reading RSS: the child's forced GC changes what it holds.
		if _, err := io.WriteString(p.stdin, "measure\n"); err != nil {
			return st, err
		}
		l, err := p.next(ctx, childStats)
		if err != nil {
			return st, err
		}
		st.Heap = &heapStats{}
		if err := json.Unmarshal([]byte(strings.TrimPrefix(l, childStats)), st.Heap); err != nil {
			return st, fmt.Errorf("%s: %q: %w", p.name, l, err)
		}
	}
	return st, nil
}

// proc is a measured process: started with GOMAXPROCS=2, its stdout read line by line, its
// stderr's tail kept for error messages.
type proc struct {
	name   string
	cmd    *exec.Cmd
	start  time.Time
	stdin  io.WriteCloser
	lines  chan string
	exited chan error
	stderr tailBuffer
	// seen are the stdout lines next skipped over.
	seen []string
}

func startProc(argv []string) (*proc, error) {
	p := &proc{name: filepath.Base(argv[0]), lines: make(chan string), exited: make(chan error, 1)}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Env = append(os.Environ(), "GOMAXPROCS=2")
	p.cmd.Stderr = &p.stderr
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p.start = time.Now()
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.exited <- p.cmd.Wait() // only once stdout is read to the end, as os/exec requires
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// next returns the next stdout line starting with prefix, collecting the others in seen.
func (p *proc) next(ctx context.Context, prefix string) (string, error) {
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				return "", fmt.Errorf("%s exited: %s", p.name, p.stderr.String())
			}
			if strings.HasPrefix(l, prefix) {
				return l, nil
			}
			p.seen = append(p.seen, l)
		case <-ctx.Done():
			return "", fmt.Errorf("%s: waiting for %q: %w; stderr: %s", p.name, prefix, ctx.Err(), p.stderr.String())
		}
	}
}

// stop closes stdin and sends SIGTERM, and kills the process if it has not exited 15 s later.
func (p *proc) stop() {
	go drain(p.lines)
	_ = p.stdin.Close()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

func drain(lines <-chan string) {
	for range lines {
	}
}

var startupRE = regexp.MustCompile(` in ([0-9.]+(?:ns|µs|us|ms|s|m))`)

// reportedStartup parses the "in 2.041s" of a ready line.
func reportedStartup(line string) time.Duration {
	m := startupRE.FindStringSubmatch(line)
	if m == nil {
		return 0
	}
	d, _ := time.ParseDuration(m[1])
	return d
}

// readStatus returns VmRSS (KiB) and the thread count of a process.
func readStatus(pid int) (float64, int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	var rss float64
	threads := 0
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			rss, _ = strconv.ParseFloat(f[1], 64)
		case "Threads:":
			threads, _ = strconv.Atoi(f[1])
		}
	}
	if rss == 0 {
		return 0, 0, errors.New("no VmRSS in /proc/" + strconv.Itoa(pid) + "/status")
	}
	return rss, threads, nil
}

// measureHeap waits for goroutines that are on their way out (closed connections) and
// collects garbage twice, so that HeapAlloc is the live heap.
func measureHeap() heapStats {
	settleGoroutines()
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return heapStats{HeapBytes: m.HeapAlloc, StackBytes: m.StackInuse, Goroutines: runtime.NumGoroutine()}
}

// settleGoroutines returns once the goroutine count has not changed for 300 ms, or after 3 s.
func settleGoroutines() {
	last, stable := runtime.NumGoroutine(), 0
	for i := 0; i < 30 && stable < 3; i++ {
		time.Sleep(100 * time.Millisecond)
		n := runtime.NumGoroutine()
		if n == last {
			stable++
		} else {
			last, stable = n, 0
		}
	}
}

// tailBuffer keeps the last 4 KiB written to it: a child's stderr, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 4096 {
		t.buf = t.buf[len(t.buf)-4096:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}
