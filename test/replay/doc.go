// Package replay replays a recording of the requests a real Rancher made to a real downstream
// cluster against a simulated cluster, through the path Rancher uses (the embedded
// endpoint's tunnel dialer, the agent, the mock's TLS listener), and compares every response
// with the recorded one: status code, kind, media type, and for watches the events that can
// arrive.
//
// The recording is testdata/requests.jsonl.gz, a copy of the Rancher v2.15.0 trace in the
// shared reference material (rancher-v2.15-trace/requests.jsonl; SUMMARY.md there describes
// it). The cluster comes from testdata/fixture.yaml, which resembles the recorded downstream:
// Kubernetes v1.36, one control-plane node, the import manifest applied and the agent's
// stv-aggregation Secret. testdata/overrides.yaml stands in for the request bodies the
// recording had to redact.
//
// Names the mock generates differently (generateName suffixes, uids, resourceVersions) are
// mapped as the replay learns them; see mapping.
//
// Run it with
//
//	go test ./test/replay -run TestReplay -v
//
// and narrow it with REPLAY_SEQ=100-200 (the writes before the range are still sent, so that
// the cluster is in the state the range expects).
package replay
