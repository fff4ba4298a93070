package fleet

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestLoadState(t *testing.T) {
	tests := []struct {
		name    string
		content string // "" = no file
		wantErr string
		check   func(*testing.T, *State)
	}{
		{name: "no file: empty state with a new run id", check: func(t *testing.T, s *State) {
			if !strings.HasPrefix(s.RunID, "sca-") || len(s.RunID) != 14 || len(s.Clusters) != 0 || s.Version != stateVersion {
				t.Errorf("%+v", s)
			}
		}},
		{name: "recorded clusters", content: `{"version":1,"runID":"sca-abc","clusters":{"sim-0001":{"rancherURL":"https://r","clusterID":"c-abcde","token":"t","origin":"created"}}}`,
			check: func(t *testing.T, s *State) {
				if s.RunID != "sca-abc" || s.Clusters["sim-0001"].ClusterID != "c-abcde" {
					t.Errorf("%+v", s)
				}
			}},
		{name: "older file without run id or clusters", content: `{"version":1}`, check: func(t *testing.T, s *State) {
			if s.RunID == "" || s.Clusters == nil {
				t.Errorf("%+v", s)
			}
		}},
		{name: "torn file", content: `{"version":1,"runID":"sca-abc","clus`, wantErr: "not valid JSON"},
		{name: "newer version", content: `{"version":99}`, wantErr: "version 99"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.content != "" {
				if err := os.WriteFile(filepath.Join(dir, StateFile), []byte(tt.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			s, err := LoadState(dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, s)
		})
	}
}

// TestStateWriteFailureKeepsOldFile: a write that dies before its rename (here: the writer
// fails after writing half the temporary file) leaves the previous state.json as it was,
// and the next flush writes the state again.
func TestStateWriteFailureKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	s, err := openStateStore(dir, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	s.update("a", func(r *ClusterRecord) { r.ClusterID = "c-aaaaa" })
	if err := s.flush(); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, StateFile))
	real := s.write
	s.write = func(path string, data []byte, mode os.FileMode) error {
		tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
		if err != nil {
			return err
		}
		_, _ = tmp.Write(data[:len(data)/2])
		tmp.Close()
		return errors.New("crashed")
	}
	s.update("b", func(r *ClusterRecord) { r.ClusterID = "c-bbbbb" })
	if err := s.flush(); err == nil {
		t.Fatal("flush with a failing writer succeeded")
	}
	after, _ := os.ReadFile(filepath.Join(dir, StateFile))
	if string(after) != string(before) {
		t.Fatalf("state.json changed by a failed write:\n%s", after)
	}
	if st, err := LoadState(dir); err != nil || len(st.Clusters) != 1 {
		t.Fatalf("state after the failed write: %+v, %v", st, err)
	}
	s.write = real
	if err := s.flush(); err != nil {
		t.Fatal(err)
	}
	if st, err := LoadState(dir); err != nil || st.Clusters["b"] == nil {
		t.Errorf("the next flush did not write the pending change: %+v, %v", st, err)
	}
}

// stateWriterEnv makes the test binary a process that rewrites a large state.json in a
// loop until it is killed (TestStateCrashMidWrite).
const stateWriterEnv = "SCA_TEST_STATE_WRITER"

func init() {
	dir := os.Getenv(stateWriterEnv)
	if dir == "" {
		return
	}
	s, err := openStateStore(dir, quietLog())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for i := 0; ; i++ {
		for j := range 10000 {
			name := fmt.Sprintf("sim-%05d", j)
			s.update(name, func(r *ClusterRecord) {
				r.ClusterID, r.Token = fmt.Sprintf("c-%05d", j), strings.Repeat(fmt.Sprint(i%10), 54)
			})
		}
		if err := s.flush(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if i == 0 {
			fmt.Println("written")
		}
	}
}

// TestStateCrashMidWrite kills a process that keeps rewriting a ~1.5 MB state.json at random
// moments, many times: every time, state.json is whole and parses.
func TestStateCrashMidWrite(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("re-executes the test binary; not under -race (it tests the file system, not concurrency)")
	}
	dir := t.TempDir()
	for i := range 25 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), stateWriterEnv+"="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 8)
		if _, err := out.Read(buf); err != nil {
			t.Fatalf("writer: %v", err)
		}
		time.Sleep(time.Duration(20+i*9) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		raw, err := os.ReadFile(filepath.Join(dir, StateFile))
		if err != nil {
			t.Fatal(err)
		}
		var st State
		if err := json.Unmarshal(raw, &st); err != nil || len(st.Clusters) != 10000 {
			t.Fatalf("kill %d: state.json is torn (%d bytes): %v", i, len(raw), err)
		}
	}
}
