// Package rancher is a small client for the parts of Rancher's API that registering imported
// clusters needs: log in (or use an API token), create an imported cluster through norman's
// /v3/clusters or steve's /v1/provisioning.cattle.io.clusters, read its registration token
// (polling until Rancher fills it in), read and check /v3/settings/cacerts, follow the
// cluster's state and conditions, and delete it again.
//
// The types hold only what the tool reads, decoded from the JSON shapes a real Rancher v2.15
// returns (testdata/ holds recorded copies). One Client is meant to be shared by every
// goroutine of a run: it keeps one keep-alive HTTP client, an optional client-side rate
// limit, and retries 5xx, 429 and transport errors with jittered exponential backoff, so
// callers only see errors that retrying did not cure. Errors from Rancher are *APIError and
// quote Rancher's own code and message.
//
// Secrets stay out of logs and errors: Credentials and RegistrationToken print redacted.
package rancher
