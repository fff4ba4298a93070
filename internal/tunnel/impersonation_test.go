package tunnel

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

const (
	mediaProtobuf = "application/vnd.kubernetes.protobuf"
	mediaJSON     = "application/json"
)

func TestEnsureImpersonation(t *testing.T) {
	cases := []struct {
		name string
		// rbacFirst runs syncClusterRBAC first, which creates the impersonation namespace.
		rbacFirst bool
		// rancher uses newRancherClients (protobuf K8sClient) instead of one JSON clientset.
		rancher bool
	}{
		{"after rbac sync, rancher clients", true, true},
		{"fresh cluster, plain clientset", false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, cfg, rec := rsCluster(t, true)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var cs kubernetes.Interface = rsClient(t, cfg)
			if c.rancher {
				rc, err := newRancherClients(cfg)
				if err != nil {
					t.Fatal(err)
				}
				cs = rc
			}
			setup := newClusterSetup("c-imp01")
			if c.rbacFirst {
				if err := syncClusterRBAC(ctx, cs, setup); err != nil {
					t.Fatal(err)
				}
			}
			user := setup.AdminUser
			name := impersonationPrefix + user
			rec.take()
			token, err := ensureImpersonation(ctx, cs, user, impersonationGroups)
			if err != nil {
				t.Fatal(err)
			}
			first := rec.take()
			t.Logf("first call: %d requests\n%s", len(first), rsFormatCounts(rsCounts(first)))
			if token == "" {
				t.Fatal("empty token")
			}
			rsCheckMediaTypes(t, first, c.rancher, c.rbacFirst)

			// The objects, as recorded.
			admin := rsClient(t, cfg)
			role, err := admin.RbacV1().ClusterRoles().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			rsWantMap(t, "clusterrole labels", role.Labels, map[string]string{labelImpersonator: "true"})
			wantRules := impersonationRules(localUser(user, nil))
			if !rulesEqual(role.Rules, wantRules) {
				t.Errorf("rules %+v, want %+v", role.Rules, wantRules)
			}
			if len(wantRules) != 5 || wantRules[4].ResourceNames[0] != "local://"+user {
				t.Errorf("rules for a local user: %+v", wantRules)
			}
			sa, err := admin.CoreV1().ServiceAccounts(impersonationNamespace).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			rsWantMap(t, "serviceaccount labels", sa.Labels, map[string]string{labelImpersonator: "true"})
			if len(sa.OwnerReferences) != 1 || sa.OwnerReferences[0].UID != role.UID {
				t.Errorf("serviceaccount owners %+v, want the clusterrole", sa.OwnerReferences)
			}
			ref := sa.Annotations[annotationSATokenSecretRef]
			secretName, ok := strings.CutPrefix(ref, impersonationNamespace+"/")
			if !ok || !strings.HasPrefix(secretName, name+"-token-") {
				t.Fatalf("serviceaccount secret reference %q", ref)
			}
			secret, err := admin.CoreV1().Secrets(impersonationNamespace).Get(ctx, secretName, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if secret.Type != corev1.SecretTypeServiceAccountToken || secret.GenerateName != name+"-token-" ||
				string(secret.Data[corev1.ServiceAccountTokenKey]) != token {
				t.Errorf("secret type %s generateName %s token matches %v", secret.Type, secret.GenerateName,
					string(secret.Data[corev1.ServiceAccountTokenKey]) == token)
			}
			rsWantMap(t, "secret annotations", secret.Annotations, map[string]string{corev1.ServiceAccountNameKey: name, corev1.ServiceAccountUIDKey: string(sa.UID)})
			rsWantMap(t, "secret labels", secret.Labels, map[string]string{labelSATokenSecret: name})
			crb, err := admin.RbacV1().ClusterRoleBindings().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if crb.RoleRef.Name != name || len(crb.Subjects) != 1 || crb.Subjects[0].Kind != "ServiceAccount" ||
				crb.Subjects[0].Name != name || crb.Subjects[0].Namespace != impersonationNamespace {
				t.Errorf("clusterrolebinding roleRef %+v subjects %+v", crb.RoleRef, crb.Subjects)
			}
			ns, err := admin.CoreV1().Namespaces().Get(ctx, impersonationNamespace, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			rsWantMap(t, "namespace labels", ns.Labels, map[string]string{labelImpersonator: "true"})

			// A second call reuses everything: same token, reads only.
			rec.take()
			again, err := ensureImpersonation(ctx, cs, user, impersonationGroups)
			if err != nil {
				t.Fatal(err)
			}
			second := rec.take()
			t.Logf("second call: %d requests\n%s", len(second), rsFormatCounts(rsCounts(second)))
			if again != token {
				t.Error("the second call returned another token")
			}
			for _, r := range second {
				if r.method != http.MethodGet {
					t.Errorf("second call wrote: %s %s %d", r.method, r.path, r.status)
				}
			}

			// The mock accepts the token, as the service account.
			base := rest.AnonymousClientConfig(cfg)
			base.WrapTransport = nil
			whoami := func(cfg *rest.Config) authenticationv1.UserInfo {
				t.Helper()
				ssr, err := rsClient(t, cfg).AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
				if err != nil {
					t.Fatal(err)
				}
				return ssr.Status.UserInfo
			}
			saCfg := rest.CopyConfig(base)
			saCfg.BearerToken = token
			if got, want := whoami(saCfg).Username, "system:serviceaccount:"+impersonationNamespace+":"+name; got != want {
				t.Errorf("token authenticates as %s, want %s", got, want)
			}

			// Through impersonatedConfig, requests succeed as the impersonated user.
			extra := proxyExtra(user, "admin", "127.0.0.1:8443", "token-zpw5n")
			imp := impersonatedConfig(cfg, token, user, nil, extra)
			if imp.BearerToken != token || imp.Impersonate.UserName != user {
				t.Errorf("impersonated config: bearer or user not set")
			}
			rec.take()
			nsList, err := rsClient(t, imp).CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(nsList.Items) == 0 {
				t.Error("no namespaces listed")
			}
			ui := whoami(imp)
			for _, r := range rec.take() {
				if r.status != http.StatusOK && r.status != http.StatusCreated {
					t.Errorf("impersonated %s %s: %d", r.method, r.path, r.status)
				}
			}
			if ui.Username != user {
				t.Errorf("mock sees %q, want the impersonated %q", ui.Username, user)
			}
			for _, g := range impersonationGroups {
				if !slices.Contains(ui.Groups, g) {
					t.Errorf("groups %v lack %s", ui.Groups, g)
				}
			}
			for k, v := range extra {
				if got := ui.Extra[k]; len(got) != 1 || got[0] != v[0] {
					t.Errorf("extra %s = %v, want %v (all %v)", k, got, v, ui.Extra)
				}
			}
		})
	}
}

// rsCheckMediaTypes checks what Rancher sends: JSON from its controllers' clients, protobuf
// for the token Secret and ServiceAccount writes of its K8sClient (with ?timeout=45s). Without
// the namespace, the first ServiceAccount create fails with 404 and the namespace is made.
func rsCheckMediaTypes(t *testing.T, reqs []rsRequest, rancher, haveNamespace bool) {
	t.Helper()
	for _, r := range reqs {
		if r.method == http.MethodGet {
			continue
		}
		k8sClient := r.resource == "secrets" || r.resource == "serviceaccounts" && r.method == http.MethodPut
		want := mediaJSON
		if rancher && k8sClient {
			want = mediaProtobuf
			if !strings.Contains(r.path, "timeout=45s") {
				t.Errorf("%s %s lacks the K8sClient's timeout", r.method, r.path)
			}
			if r.accept != "application/vnd.kubernetes.protobuf,application/json" {
				t.Errorf("%s %s: Accept %q", r.method, r.path, r.accept)
			}
		}
		if r.method != http.MethodDelete && r.contentType != want {
			t.Errorf("%s %s: Content-Type %q, want %q", r.method, r.path, r.contentType, want)
		}
		missingNS := !haveNamespace && r.resource == "serviceaccounts" && r.method == http.MethodPost && r.status == http.StatusNotFound
		if r.status >= 300 && !missingNS {
			t.Errorf("%s %s: %d", r.method, r.path, r.status)
		}
	}
}

func TestEnsureImpersonationSecretReference(t *testing.T) {
	// A reference to a Secret that is gone is replaced by a new Secret, and the rules follow
	// the user's groups.
	_, cfg, _ := rsCluster(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs := rsClient(t, cfg)
	user := "u-tibjalquib"
	first, err := ensureImpersonation(ctx, cs, user, impersonationGroups)
	if err != nil {
		t.Fatal(err)
	}
	name := impersonationPrefix + user
	sa, err := cs.CoreV1().ServiceAccounts(impersonationNamespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	old := strings.TrimPrefix(sa.Annotations[annotationSATokenSecretRef], impersonationNamespace+"/")
	if err := cs.CoreV1().Secrets(impersonationNamespace).Delete(ctx, old, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	groups := []string{"system:authenticated", "system:cattle:authenticated", "github_team://42"}
	second, err := ensureImpersonation(ctx, cs, user, groups)
	if err != nil {
		t.Fatal(err)
	}
	if second == "" || second == first {
		t.Errorf("after the Secret was deleted: token empty or unchanged")
	}
	sa, err = cs.CoreV1().ServiceAccounts(impersonationNamespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ref := sa.Annotations[annotationSATokenSecretRef]; ref == impersonationNamespace+"/"+old || ref == "" {
		t.Errorf("secret reference %q not replaced", ref)
	}
	role, err := cs.RbacV1().ClusterRoles().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !rulesEqual(role.Rules, impersonationRules(localUser(user, groups))) {
		t.Errorf("rules not updated to the new groups: %+v", role.Rules)
	}
}

func TestImpersonationRulesAsRecorded(t *testing.T) {
	in := clusterSetup{ClusterID: "c-hvx6v", AdminUser: "user-gwd5v", ClusterOwner: "u-tibjalquib"}
	imp := []string{"impersonate"}
	auth := []string{"authentication.k8s.io"}
	common := func(user string) []rbacv1.PolicyRule {
		return []rbacv1.PolicyRule{
			{Verbs: imp, APIGroups: []string{""}, Resources: []string{"users"}, ResourceNames: []string{user}},
			{Verbs: imp, APIGroups: auth, Resources: []string{"userextras/requesttokenid"}},
			{Verbs: imp, APIGroups: auth, Resources: []string{"userextras/requesthost"}},
			{Verbs: imp, APIGroups: []string{""}, Resources: []string{"groups"}, ResourceNames: []string{"system:authenticated", "system:cattle:authenticated"}},
		}
	}
	// Request bodies of POST clusterroles cattle-impersonation-* in the trace (seq 55 and 224).
	cases := []struct {
		name string
		user impersonationUser
		want []rbacv1.PolicyRule
	}{
		{"admin", in.adminImpersonation(), append(common("user-gwd5v"),
			rbacv1.PolicyRule{Verbs: imp, APIGroups: auth, Resources: []string{"userextras/principalid"}, ResourceNames: []string{"local://user-gwd5v"}},
			rbacv1.PolicyRule{Verbs: imp, APIGroups: auth, Resources: []string{"userextras/username"}, ResourceNames: []string{"admin"}})},
		{"provisioning owner", in.ownerImpersonation(), append(common("u-tibjalquib"),
			rbacv1.PolicyRule{Verbs: imp, APIGroups: auth, Resources: []string{"userextras/principalid"},
				ResourceNames: []string{"local://u-tibjalquib", "system://provisioning/fleet-default/c-hvx6v"}})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := impersonationRules(c.user); !rulesEqual(got, c.want) {
				t.Errorf("rules %+v\nwant %+v", got, c.want)
			}
		})
	}
}
