package mockapi

import (
	"context"
	"net/http"
	"strings"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/request/bearertoken"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/apiserver/pkg/authentication/user"
)

// The cluster admin, as in a kubeadm kubeconfig.
var adminUser = &user.DefaultInfo{
	Name:   "kubernetes-admin",
	Groups: []string{user.SystemPrivilegedGroup, user.AllAuthenticated},
}

// clusterTokens authenticates bearer tokens against the cluster the request arrived on: its
// admin token and the service-account tokens it issued.
type clusterTokens struct{}

func (clusterTokens) AuthenticateToken(ctx context.Context, token string) (*authenticator.Response, bool, error) {
	c := ClusterFrom(ctx)
	if c == nil {
		return nil, false, nil
	}
	u, ok := c.lookupToken(token)
	if !ok {
		return nil, false, nil
	}
	return &authenticator.Response{User: u}, true, nil
}

// requestAuthenticator accepts the cluster's bearer tokens everywhere, and anonymous requests
// only on the health endpoints, like a kube-apiserver configured with anonymous access limited
// to /healthz, /livez and /readyz.
func requestAuthenticator() authenticator.Request {
	bearer := bearertoken.New(clusterTokens{})
	return authenticator.RequestFunc(func(r *http.Request) (*authenticator.Response, bool, error) {
		resp, ok, err := bearer.AuthenticateRequest(r)
		if ok || err != nil || r.Header.Get("Authorization") != "" {
			return resp, ok, err
		}
		if isHealthPath(r.URL.Path) {
			return &authenticator.Response{User: &user.DefaultInfo{
				Name: user.Anonymous, Groups: []string{user.AllUnauthenticated},
			}}, true, nil
		}
		return nil, false, nil
	})
}

func isHealthPath(p string) bool {
	for _, h := range []string{"/healthz", "/livez", "/readyz"} {
		if p == h || strings.HasPrefix(p, h+"/") {
			return true
		}
	}
	return false
}

// serviceAccountUser is who a service-account token authenticates as.
func serviceAccountUser(namespace, name, uid string) user.Info {
	u := serviceaccount.UserInfo(namespace, name, uid)
	// The authenticator chain adds system:authenticated to everyone it authenticates.
	return &user.DefaultInfo{Name: u.GetName(), UID: u.GetUID(), Groups: append(u.GetGroups(), user.AllAuthenticated), Extra: u.GetExtra()}
}
