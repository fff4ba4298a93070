// Package tunnel connects simulated clusters to Rancher the way cattle-cluster-agent does, and
// holds the embedded Rancher-compatible endpoint that stands in for Rancher when there is none.
//
// Agent side (agent.go and friends): per cluster, the main remotedialer tunnel
// (/v3/connect/register, then /v3/connect, with X-API-Tunnel-Token and X-API-Tunnel-Params)
// through which Rancher reaches the cluster's mock API, and the steve-aggregation tunnel
// (/v3/connect with "Authorization: Bearer stv-cluster-<token>") whose dials reach an
// in-process handler answering GET /ping. Each tunnel has its own context-aware reconnect
// loop with jittered exponential backoff. Dials are allowed to the cluster's own listener
// address only.
//
// Endpoint side (endpoint.go and friends): a remotedialer server with Rancher's routes and
// authorizers, and per connected cluster Rancher's health checks through the tunnels, from
// which it derives Connected and Ready.
package tunnel
