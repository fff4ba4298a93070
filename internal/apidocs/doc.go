// Package apidocs holds the published discovery and OpenAPI documents of each emulated
// Kubernetes version, as data, and serves discovery from them. It also holds the objects a
// kube-apiserver of the release creates at start-up (BootstrapObjects: the RBAC bootstrap
// policy and the APIServices of its group-versions), and tells which DELETEs answer with the
// deleted object (DeleteReturnsObject).
//
// The documents come from the k8s.io/kubernetes module zip (api/discovery, api/openapi-spec),
// reduced by hack/apidocs to what a default-configured cluster of that release serves (GA
// group-versions only, for the pinned releases; swagger.json is kept whole and reduced by
// OpenAPIV2 when served) and embedded gzipped. The start-up objects come from the same module
// zip: the bootstrap policy's pinned test data (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/
// testdata) and kube-apiserver's APIService priority table, applied to the served group-versions. Load parses one minor once
// and encodes every discovery response up front; the result is shared by every simulated cluster
// of that version.
//
// Wiring into the shared k8s.io/apiserver GenericAPIServer of a version (the v3 definitions are
// what InstallAPIGroups builds the server-side-apply type converters from):
//
//	d, err := apidocs.Load(minor)
//	cfg.OpenAPIV3Config = genericapiserver.DefaultOpenAPIV3Config(d.OpenAPIV3Definitions(), openapinamer.NewDefinitionNamer())
//	cfg.OpenAPIV3Config.GetDefinitionName = d.OpenAPIV3DefinitionNamer()
//	cfg.SkipOpenAPIInstallation = true
//
// /openapi/v2 and /openapi/v3 are then served from OpenAPIV2, OpenAPIV3Paths and OpenAPIV3
// through kube-openapi's handlers (see internal/mockapi/openapi.go). Discovery is answered in
// front of the apiserver's handler (inside the filter chain, so authentication and the chain's
// headers apply as on a real server):
//
//	if !d.ServeDiscovery(w, r) {
//		apiserverHandler.ServeHTTP(w, r)
//	}
package apidocs
