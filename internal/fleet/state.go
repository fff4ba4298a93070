package fleet

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/rancher/scale-cluster-agent/internal/atomicfile"
)

// StateFile is the name of the registration state in a state directory.
const StateFile = "state.json"

// stateVersion is the format of state.json; a newer one is refused rather than misread.
const stateVersion = 1

// State is <state-dir>/state.json: what runs with this state directory registered in
// Rancher, so that the next run reuses the same Rancher clusters instead of creating
// duplicates, and `clean` knows what to delete. It holds registration tokens: mode 0600.
type State struct {
	Version int `json:"version"`
	// RunID is the value of the scale-cluster-agent/run label on the clusters this state
	// directory created; clean deletes clusters carrying it.
	RunID string `json:"runID"`
	// CACert is the PEM of the state directory's CA (ca.crt), which signed every simulated
	// cluster's serving certificate; each agent reports its base64 as caCert. Kept here so
	// that a changed CA (ca.crt deleted) can be told apart at the next run.
	CACert string `json:"caCert,omitempty"`
	// Clusters are keyed by the simulated cluster's name (its name in Rancher too).
	Clusters map[string]*ClusterRecord `json:"clusters"`
}

// ClusterRecord is one simulated cluster as registered in Rancher.
type ClusterRecord struct {
	// RancherURL is the Rancher the cluster is registered with (the embedded endpoint's URL
	// of the run that registered it when Embedded).
	RancherURL string `json:"rancherURL"`
	// Embedded marks a registration with a run's embedded endpoint; the next run's embedded
	// endpoint takes it back (RestoreCluster), whatever its URL.
	Embedded bool `json:"embedded,omitempty"`
	// ClusterID is Rancher's id of the management cluster (c-xxxxx, or c-m-xxxxxxxx when
	// created through the v1 route).
	ClusterID string `json:"clusterID"`
	// Provisioning is "<namespace>/<name>" of the provisioning cluster that owns the
	// management cluster, for a cluster created through the v1 route: clean deletes that,
	// which takes the management cluster with it. Empty for the v3 route.
	Provisioning string `json:"provisioning,omitempty"`
	// Token is the registration token the agent presents; re-read when Rancher refuses it.
	Token string `json:"token,omitempty"`
	// Origin is "created" (by a run of this state directory) or "adopted" (found in Rancher
	// by name, carrying the tool's label).
	Origin string `json:"origin"`
	// Address is the cluster's mock API listener (host:port, the address the agent reports);
	// the next run listens there again if it can, so Rancher's apiEndpoint stays the same.
	Address string `json:"address,omitempty"`
	// ServiceAccountToken is the token the agent reported for the cattle service account.
	ServiceAccountToken string `json:"serviceAccountToken,omitempty"`
	// Registered is when the cluster was first created or adopted.
	Registered time.Time `json:"registered"`
}

// stateStore keeps State in memory and writes it atomically (write, fsync, rename), at most
// every flush interval while registrations come in, and on Flush.
type stateStore struct {
	path string
	log  *logrus.Entry
	// write replaces the file; atomicfile.Write, or a failing stand-in in tests.
	write func(path string, data []byte, mode os.FileMode) error

	mu    sync.Mutex
	st    State
	dirty bool
	wmu   sync.Mutex // one write at a time, in order
}

// LoadState reads <dir>/state.json; a missing file is an empty state with a new run id.
// An unreadable or unparsable file is an error: guessing would create duplicates in Rancher.
func LoadState(dir string) (*State, error) {
	path := filepath.Join(dir, StateFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return &State{Version: stateVersion, RunID: newRunID(), Clusters: map[string]*ClusterRecord{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("registration state: %w", err)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("registration state %s is not valid JSON (%v); move it away to start afresh, and clean up Rancher by the cluster label %s", path, err, "scale-cluster-agent/run")
	}
	if st.Version > stateVersion {
		return nil, fmt.Errorf("registration state %s has version %d; this build reads up to %d", path, st.Version, stateVersion)
	}
	st.Version = stateVersion
	if st.RunID == "" {
		st.RunID = newRunID()
	}
	if st.Clusters == nil {
		st.Clusters = map[string]*ClusterRecord{}
	}
	return &st, nil
}

func openStateStore(dir string, log *logrus.Entry) (*stateStore, error) {
	st, err := LoadState(dir)
	if err != nil {
		return nil, err
	}
	return &stateStore{path: filepath.Join(dir, StateFile), log: log, write: atomicfile.Write, st: *st}, nil
}

// newRunID names a state directory's clusters: sca-<10 random characters>, a label value.
func newRunID() string {
	const chars = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = chars[int(b[i])%len(chars)]
	}
	return "sca-" + string(b)
}

func (s *stateStore) runID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.RunID
}

// get returns a copy of the cluster's record.
func (s *stateStore) get(name string) (ClusterRecord, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.st.Clusters[name]
	if !ok {
		return ClusterRecord{}, false
	}
	return *r, true
}

// update changes the cluster's record (creating it) and marks the state for writing.
func (s *stateStore) update(name string, f func(*ClusterRecord)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.st.Clusters[name]
	if r == nil {
		r = &ClusterRecord{}
		s.st.Clusters[name] = r
	}
	f(r)
	s.dirty = true
}

func (s *stateStore) remove(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.st.Clusters[name]; ok {
		delete(s.st.Clusters, name)
		s.dirty = true
	}
}

func (s *stateStore) setCACert(pem string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.CACert != pem {
		s.st.CACert, s.dirty = pem, true
	}
}

// names lists the recorded clusters, sorted.
func (s *stateStore) names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.st.Clusters))
	for n := range s.st.Clusters {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// flush writes the state if it changed since the last write.
func (s *stateStore) flush() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.Lock()
	if !s.dirty {
		s.mu.Unlock()
		return nil
	}
	data, err := json.MarshalIndent(&s.st, "", "  ")
	s.dirty = false
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("registration state: %w", err)
	}
	if err := s.write(s.path, append(data, '\n'), 0o600); err != nil {
		s.mu.Lock()
		s.dirty = true // try again next time
		s.mu.Unlock()
		return fmt.Errorf("write %s: %w", s.path, err)
	}
	return nil
}

// run flushes every interval until ctx ends, then once more.
func (s *stateStore) run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := s.flush(); err != nil {
				s.log.WithError(err).Error("could not save the registration state")
			}
			return
		case <-t.C:
			if err := s.flush(); err != nil {
				s.log.WithError(err).Warn("could not save the registration state; retrying")
			}
		}
	}
}
