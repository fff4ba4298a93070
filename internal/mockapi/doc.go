// Package mockapi serves a Kubernetes API for many simulated clusters from one process.
//
// One k8s.io/apiserver handler chain per emulated Kubernetes minor version serves every
// simulated cluster of that version; each cluster keeps its objects in its own store (a
// client-go ObjectTracker wrapped with the semantics of a real apiserver) and is selected by
// the listener a connection arrived on. The objects a real kube-apiserver creates at start-up
// (RBAC bootstrap policy, APIServices) are materialised per cluster and resource on first use
// (bootstrap.go), so that idle clusters stay small.
package mockapi
