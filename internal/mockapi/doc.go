// Package mockapi serves a Kubernetes API for many simulated clusters from one process.
//
// One k8s.io/apiserver handler chain per emulated Kubernetes minor version serves every
// simulated cluster of that version; each cluster keeps its objects in its own store (a
// client-go ObjectTracker wrapped with the semantics of a real apiserver) and is selected by
// the listener a connection arrived on.
package mockapi
