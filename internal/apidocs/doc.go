// Package apidocs holds the published discovery and OpenAPI documents of each emulated
// Kubernetes version, as data, and serves discovery from them.
package apidocs
