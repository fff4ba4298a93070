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
// The requests go one after another, as fast as the mock answers, each with the recorded
// method, Accept, Content-Type (protobuf bodies re-encoded from the recorded JSON),
// User-Agent, other headers, impersonation headers and the bearer token of the recorded
// subject: the agent's service-account token, or for the impersonation service account the
// token its Secret holds once the mock's token controller has filled it. Watches are read on
// their own goroutines for up to Options.WatchWait while the following requests go on, so
// they see the changes those make, as the recorded ones did. The one departure from arrival
// order: of two overlapping writes to one object, the one the real server finished first goes
// first (Rancher's controllers race, and the recorded 409 went to the one committed second).
//
// Names the mock generates differently are mapped as the replay learns them (see mapping):
// generateName suffixes from the create responses, uids and resourceVersions by looking up the
// object a body refers to the first time a recorded value is seen. A recorded resourceVersion
// seen again maps to the same mock one, so a stale update is stale against the mock too.
//
// Each response is compared with the recording: status code, media type, content encoding,
// kind (the recorded one, else what the apiserver answers: a Status for errors and for most
// DELETEs, the resource's kind or its List), the item count where recorded, and for watches
// the event types (none the real server never sent) and, for a watch-list, the
// initial-events-end bookmark and an initial state that is not empty where the real one was
// not.
//
// Run it with
//
//	go test ./test/replay -run TestReplay -v
//
// and narrow it with REPLAY_SEQ=100-200 (the writes before the range are still sent, so that
// the cluster is in the state the range expects).
package replay
