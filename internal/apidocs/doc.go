// Package apidocs holds the published discovery and OpenAPI documents of each emulated
// Kubernetes version, as data, and serves discovery from them.
//
// The documents come from the k8s.io/kubernetes module zip (api/discovery, api/openapi-spec),
// reduced by hack/apidocs to what a default-configured cluster of that release serves (GA
// group-versions only, for the pinned releases) and embedded gzipped. Load parses one minor once
// and encodes every discovery response up front; the result is shared by every simulated cluster
// of that version.
//
// Wiring into the shared k8s.io/apiserver GenericAPIServer of a version:
//
//	d, err := apidocs.Load(minor)
//	cfg.OpenAPIConfig = genericapiserver.DefaultOpenAPIConfig(d.OpenAPIV2Definitions(), openapinamer.NewDefinitionNamer())
//	cfg.OpenAPIV3Config = genericapiserver.DefaultOpenAPIV3Config(d.OpenAPIV3Definitions(), openapinamer.NewDefinitionNamer())
//	cfg.OpenAPIV3Config.GetDefinitionName = d.OpenAPIV3DefinitionNamer()
//
// and, in front of the apiserver's handler (inside the filter chain, so authentication and
// the chain's headers apply as on a real server):
//
//	if !d.ServeDiscovery(w, r) {
//		apiserverHandler.ServeHTTP(w, r)
//	}
package apidocs
