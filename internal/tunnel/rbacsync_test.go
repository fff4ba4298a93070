package tunnel

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/rancher/scale-cluster-agent/internal/apidocs"
	"github.com/rancher/scale-cluster-agent/internal/fixtures"
	"github.com/rancher/scale-cluster-agent/internal/mockapi"
	"github.com/rancher/scale-cluster-agent/internal/pki"
)

// rsRequest is one request a test client sent, as the trace records it.
type rsRequest struct {
	method, path, resource string
	status                 int
	contentType, accept    string
}

// rsRecorder records the requests of the clients built from its config.
type rsRecorder struct {
	mu   sync.Mutex
	reqs []rsRequest
}

func (r *rsRecorder) wrap(rt http.RoundTripper) http.RoundTripper {
	return rsRoundTripper(func(req *http.Request) (*http.Response, error) {
		resp, err := rt.RoundTrip(req)
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		r.mu.Lock()
		r.reqs = append(r.reqs, rsRequest{method: req.Method, path: req.URL.RequestURI(), resource: rsResource(req.URL.Path),
			status: status, contentType: req.Header.Get("Content-Type"), accept: req.Header.Get("Accept")})
		r.mu.Unlock()
		return resp, err
	})
}

type rsRoundTripper func(*http.Request) (*http.Response, error)

func (f rsRoundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// take returns the requests recorded since the last take.
func (r *rsRecorder) take() []rsRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.reqs
	r.reqs = nil
	return out
}

// rsResource is the resource a request path names ("secrets", "namespaces", ...).
func rsResource(path string) string {
	seg := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(seg) >= 2 && seg[0] == "api":
		seg = seg[2:]
	case len(seg) >= 3 && seg[0] == "apis":
		seg = seg[3:]
	default:
		return path
	}
	if len(seg) >= 3 && seg[0] == "namespaces" {
		seg = seg[2:]
	}
	if len(seg) == 0 {
		return path
	}
	return seg[0]
}

// rsCounts counts requests by "VERB resource status" (a GET with a name or a selector is
// told apart from a plain LIST).
func rsCounts(reqs []rsRequest) map[string]int {
	out := map[string]int{}
	for _, r := range reqs {
		verb := r.method
		if r.method == http.MethodGet {
			p, q, _ := strings.Cut(r.path, "?")
			seg := strings.Split(strings.Trim(p, "/"), "/")
			if seg[len(seg)-1] == r.resource {
				verb = "LIST"
				if strings.Contains(q, "labelSelector") {
					verb = "LIST(selector)"
				}
			}
		}
		out[fmt.Sprintf("%s %s %d", verb, r.resource, r.status)]++
	}
	return out
}

func rsFormatCounts(c map[string]int) string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "  %-45s %d\n", k, c[k])
	}
	return b.String()
}

// rsCluster serves one cluster of the default fixture, plus the namespace and Deployment the
// import manifest leaves (when withAgent), on a real mock API listener, and returns an admin
// config whose requests rec records.
func rsCluster(t *testing.T, withAgent bool) (*mockapi.Cluster, *rest.Config, *rsRecorder) {
	t.Helper()
	auth, err := pki.LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := auth.ServingCert()
	if err != nil {
		t.Fatal(err)
	}
	fx, err := fixtures.Default(fixtures.LoadOptions{SupportedMinors: apidocs.Minors()})
	if err != nil {
		t.Fatal(err)
	}
	srv := mockapi.NewServer(mockapi.Options{ServingCert: cert, CACert: auth.CertPEM, Log: epQuietLog()})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	var c *mockapi.Cluster
	err = fx.Each(fixtures.GenerateOptions{Count: 1, CACertPEM: auth.CertPEM}, func(spec fixtures.Cluster) error {
		objs := spec.Objects
		if withAgent {
			objs = append(objs, rsAgentObjects()...)
		}
		var err error
		c, err = srv.AddCluster(mockapi.ClusterSpec{Name: spec.Name, Version: spec.Version, Minor: spec.Minor,
			AdminToken: auth.Token(spec.Name), Objects: objs})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := &rsRecorder{}
	cfg := &rest.Config{
		Host:            c.URL(),
		BearerToken:     c.AdminToken(),
		TLSClientConfig: rest.TLSClientConfig{CAData: auth.CertPEM},
		QPS:             -1,
		WrapTransport:   rec.wrap,
		ContentConfig: rest.ContentConfig{
			AcceptContentTypes: rancherControllerAccept,
			ContentType:        "application/json",
		},
	}
	return c, cfg, rec
}

// rsAgentObjects are what kubectl apply of the import manifest left before the agent
// connected: namespace cattle-system and the agent Deployment.
func rsAgentObjects() []runtime.Object {
	labels := map[string]string{"app": agentDeployment}
	return []runtime.Object{
		&corev1.Namespace{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
			ObjectMeta: metav1.ObjectMeta{Name: agentNamespace, Labels: map[string]string{corev1.LabelMetadataName: agentNamespace}},
			Spec:       corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{corev1.FinalizerKubernetes}},
			Status:     corev1.NamespaceStatus{Phase: corev1.NamespaceActive},
		},
		&appsv1.Deployment{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
			ObjectMeta: metav1.ObjectMeta{Name: agentDeployment, Namespace: agentNamespace},
			Spec: appsv1.DeploymentSpec{
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{
						Name: "cluster-register", Image: "rancher/rancher-agent:v2.15.0",
					}}},
				},
			},
		},
	}
}

func rsClient(t *testing.T, cfg *rest.Config) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// rsVersions are the resourceVersions of every object of the kinds the sync writes.
func rsVersions(t *testing.T, cs kubernetes.Interface) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	nss, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range nss.Items {
		out["ns/"+o.Name] = o.ResourceVersion
	}
	crs, err := cs.RbacV1().ClusterRoles().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range crs.Items {
		out["cr/"+o.Name] = o.ResourceVersion
	}
	crbs, err := cs.RbacV1().ClusterRoleBindings().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range crbs.Items {
		out["crb/"+o.Name] = o.ResourceVersion
	}
	rbs, err := cs.RbacV1().RoleBindings("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range rbs.Items {
		out["rb/"+o.Namespace+"/"+o.Name] = o.ResourceVersion
	}
	deps, err := cs.AppsV1().Deployments("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range deps.Items {
		out["deploy/"+o.Namespace+"/"+o.Name] = o.ResourceVersion
	}
	return out
}

func TestBindingNamesAreRancherHashes(t *testing.T) {
	// Names recorded from Rancher v2.15 (trace SUMMARY, objects table).
	cases := []struct{ got, want string }{
		{crbName("cluster-owner", "user-gwd5v"), "crb-ugiucoszgj"},
		{crbName("create-ns", "user-gwd5v"), "crb-7ypqolo75o"},
		{crbName("project-owner-promoted", "user-gwd5v"), "crb-khbsea6qk5"},
		{crbName("p-sl2jv-namespaces-edit", "user-gwd5v"), "crb-cpm5wm3e7t"},
		{crbName("p-zzqsp-namespaces-edit", "user-gwd5v"), "crb-7drtnuanbj"},
		{crbName("cluster-owner", "u-tibjalquib"), "crb-55hpacihc7"},
		{crbName("p-sl2jv-namespaces-psa", "user-gwd5v"), "crb-kl5u7xqj5h"},
		{crbName("p-zzqsp-namespaces-psa", "user-gwd5v"), "crb-p7j4kwapsl"},
		{rbName("default", "project-owner", "user-gwd5v"), "rb-zbxe5ud6ou"},
		{rbName("default", "admin", "user-gwd5v"), "rb-lpwbyplw53"},
		{rbName("kube-node-lease", "admin", "user-gwd5v"), "rb-f6kpgjdovk"},
		{rbName("cattle-impersonation-system", "project-owner", "user-gwd5v"), "rb-ljci4rcelw"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %s, want %s", c.got, c.want)
		}
	}
}

func TestSyncClusterRBAC(t *testing.T) {
	_, cfg, rec := rsCluster(t, true)
	cs := rsClient(t, cfg)
	in := newClusterSetup("c-hvx6v")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rec.take()
	if err := syncClusterRBAC(ctx, cs, in); err != nil {
		t.Fatal(err)
	}
	first := rec.take()
	t.Logf("first sync: %d requests\n%s", len(first), rsFormatCounts(rsCounts(first)))
	for _, r := range first {
		if r.method != http.MethodGet && r.method != http.MethodDelete && r.contentType != "application/json" {
			t.Errorf("%s %s sent %q, want JSON as Rancher's controllers", r.method, r.path, r.contentType)
		}
		if r.status >= 400 && !(r.method == http.MethodDelete && r.status == http.StatusNotFound) {
			t.Errorf("%s %s: %d", r.method, r.path, r.status)
		}
	}

	sys, def := in.SystemProject, in.DefaultProject
	admin := in.AdminUser
	systemNS := []string{"cattle-impersonation-system", "cattle-system", "kube-node-lease", "kube-public", "kube-system"}

	crs := map[string]struct {
		annotations map[string]string
		rules       func(*rbacv1.ClusterRole) error
	}{
		"cluster-owner":          {map[string]string{annotationClusterRoleOwner: "cluster-owner"}, rsRules(roleTemplateRules["cluster-owner"])},
		"project-owner":          {map[string]string{annotationClusterRoleOwner: "project-owner"}, rsRules(roleTemplateRules["project-owner"])},
		"create-ns":              {map[string]string{annotationClusterRoleOwner: "create-ns"}, rsRules(roleTemplateRules["create-ns"])},
		"project-owner-promoted": {nil, rsRules(roleTemplateRules["project-owner-promoted"])},
		sys + "-namespaces-readonly": {map[string]string{annotationProjectNSRole: sys + "-namespaces-readonly"},
			rsNamespaceRule("get", systemNS, nil)},
		sys + "-namespaces-edit": {map[string]string{annotationProjectNSRole: sys + "-namespaces-edit"},
			rsNamespaceRule("*", systemNS, &[]rbacv1.PolicyRule{manageNamespacesRule(sys)}[0])},
		def + "-namespaces-readonly": {map[string]string{annotationProjectNSRole: def + "-namespaces-readonly"},
			rsNamespaceRule("get", []string{"default"}, nil)},
		def + "-namespaces-edit": {map[string]string{annotationProjectNSRole: def + "-namespaces-edit"},
			rsNamespaceRule("*", []string{"default"}, &[]rbacv1.PolicyRule{manageNamespacesRule(def)}[0])},
	}
	for name, want := range crs {
		t.Run("clusterrole/"+name, func(t *testing.T) {
			cr, err := cs.RbacV1().ClusterRoles().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			rsWantMap(t, "annotations", cr.Annotations, want.annotations)
			if err := want.rules(cr); err != nil {
				t.Error(err)
			}
		})
	}
	for _, name := range []string{sys + "-namespaces-psa", def + "-namespaces-psa"} {
		if _, err := cs.RbacV1().ClusterRoles().Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("clusterrole %s: %v, want not found", name, err)
		}
	}

	crbs := []struct {
		name, role, user string
		labels           map[string]string
		annotations      map[string]string
	}{
		{"globaladmin-" + admin, "cluster-admin", admin, nil, map[string]string{
			"authz.cluster.cattle.io/admin-globalrole-checked": "true",
			"authz.cluster.cattle.io/globalrole":               "admin",
			"authz.cluster.cattle.io/globalrolebinding":        in.AdminGlobalRoleBinding,
		}},
		{crbName("cluster-owner", admin), "cluster-owner", admin, map[string]string{labelRTBOwner: "c-hvx6v_creator-cluster-owner"}, nil},
		{crbName("cluster-owner", in.ClusterOwner), "cluster-owner", in.ClusterOwner,
			map[string]string{labelRTBOwner: "c-hvx6v_c-hvx6v-fleet-default-owner"}, nil},
		{crbName("create-ns", admin), "create-ns", admin,
			map[string]string{sys + "_creator-project-owner": "owner-user", def + "_creator-project-owner": "owner-user"}, nil},
		{crbName("project-owner-promoted", admin), "project-owner-promoted", admin,
			map[string]string{sys + "_creator-project-owner": "owner-user", def + "_creator-project-owner": "owner-user"}, nil},
		{crbName(sys+"-namespaces-edit", admin), sys + "-namespaces-edit", admin, map[string]string{sys + "_creator-project-owner": "owner-user"}, nil},
		{crbName(def+"-namespaces-edit", admin), def + "-namespaces-edit", admin, map[string]string{def + "_creator-project-owner": "owner-user"}, nil},
	}
	for _, want := range crbs {
		t.Run("clusterrolebinding/"+want.name, func(t *testing.T) {
			crb, err := cs.RbacV1().ClusterRoleBindings().Get(ctx, want.name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			rsWantMap(t, "labels", crb.Labels, want.labels)
			rsWantMap(t, "annotations", crb.Annotations, want.annotations)
			if crb.RoleRef.Name != want.role || crb.RoleRef.Kind != "ClusterRole" || crb.RoleRef.APIGroup != rbacv1.GroupName {
				t.Errorf("roleRef %+v, want ClusterRole %s", crb.RoleRef, want.role)
			}
			if len(crb.Subjects) != 1 || crb.Subjects[0] != userSubject(want.user) {
				t.Errorf("subjects %+v, want user %s", crb.Subjects, want.user)
			}
		})
	}

	for _, ns := range append([]string{"default"}, systemNS...) {
		p := in.projectOf(ns)
		for _, role := range []string{"project-owner", "admin"} {
			name := rbName(ns, role, admin)
			t.Run("rolebinding/"+ns+"/"+role, func(t *testing.T) {
				rb, err := cs.RbacV1().RoleBindings(ns).Get(ctx, name, metav1.GetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				rsWantMap(t, "labels", rb.Labels, map[string]string{labelRTBOwner: p + "_creator-project-owner"})
				if rb.RoleRef.Name != role || len(rb.Subjects) != 1 || rb.Subjects[0] != userSubject(admin) {
					t.Errorf("roleRef %+v subjects %+v", rb.RoleRef, rb.Subjects)
				}
			})
		}
	}

	nsCases := []struct {
		name      string
		project   string
		noSAToken bool
		labels    map[string]string
	}{
		{"default", def, false, nil},
		{"kube-system", sys, false, nil},
		{"kube-public", sys, true, nil},
		{"kube-node-lease", sys, true, nil},
		{"cattle-system", sys, true, nil},
		{"cattle-impersonation-system", sys, true, map[string]string{labelImpersonator: "true"}},
	}
	for _, c := range nsCases {
		t.Run("namespace/"+c.name, func(t *testing.T) {
			ns, err := cs.CoreV1().Namespaces().Get(ctx, c.name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{annotationProjectID: "c-hvx6v:" + c.project, annotationNamespaceAuth: "true"}
			if c.noSAToken {
				want[annotationNoDefaultSAToken] = "true"
			} else if _, ok := ns.Annotations[annotationNoDefaultSAToken]; ok {
				t.Errorf("%s has %s", c.name, annotationNoDefaultSAToken)
			}
			rsWantMap(t, "annotations", ns.Annotations, want)
			rsWantMap(t, "labels", ns.Labels, c.labels)
			status := ns.Annotations[annotationCattleStatus]
			for _, cond := range []string{`"Type":"ResourceQuotaInit","Status":"True","Message":""`, `"Type":"InitialRolesPopulated","Status":"True"`} {
				if !strings.Contains(status, cond) {
					t.Errorf("%s: %s = %s, want a condition %s", c.name, annotationCattleStatus, status, cond)
				}
			}
		})
	}

	d, err := cs.AppsV1().Deployments(agentNamespace).Get(ctx, agentDeployment, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Spec.Template.Annotations[annotationAgentUpgraded] != "true" {
		t.Errorf("agent deployment template annotations %v", d.Spec.Template.Annotations)
	}

	// A second sync changes nothing: creates meet 409s, the clean-ups 404s, no update is made.
	before := rsVersions(t, cs)
	rec.take()
	if err := syncClusterRBAC(ctx, cs, in); err != nil {
		t.Fatal(err)
	}
	second := rec.take()
	t.Logf("second sync: %d requests\n%s", len(second), rsFormatCounts(rsCounts(second)))
	for _, r := range second {
		if r.method == http.MethodPut || r.method != http.MethodGet && r.status < 300 {
			t.Errorf("second sync wrote: %s %s %d", r.method, r.path, r.status)
		}
	}
	after := rsVersions(t, cs)
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s changed in the second sync: resourceVersion %s → %s", k, v, after[k])
		}
	}
	if len(after) != len(before) {
		t.Errorf("the second sync changed the object count: %d → %d", len(before), len(after))
	}
}

// rsRules checks a role's rules against a template.
func rsRules(want []rbacv1.PolicyRule) func(*rbacv1.ClusterRole) error {
	return func(cr *rbacv1.ClusterRole) error {
		if !rulesEqual(cr.Rules, want) {
			return fmt.Errorf("rules %+v, want %+v", cr.Rules, want)
		}
		return nil
	}
}

// rsNamespaceRule checks a project namespace role: the manage rule if any, then one rule on
// exactly the given namespaces.
func rsNamespaceRule(verb string, namespaces []string, manage *rbacv1.PolicyRule) func(*rbacv1.ClusterRole) error {
	return func(cr *rbacv1.ClusterRole) error {
		rules := cr.Rules
		if manage != nil {
			if len(rules) == 0 || !rulesEqual(rules[:1], []rbacv1.PolicyRule{*manage}) {
				return fmt.Errorf("rules %+v, want the manage-namespaces rule first", rules)
			}
			rules = rules[1:]
		}
		if len(rules) != 1 || len(rules[0].Verbs) != 1 || rules[0].Verbs[0] != verb {
			return fmt.Errorf("rules %+v, want one %q rule on namespaces", cr.Rules, verb)
		}
		got := append([]string(nil), rules[0].ResourceNames...)
		want := append([]string(nil), namespaces...)
		sort.Strings(got)
		sort.Strings(want)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			return fmt.Errorf("namespaces %v, want %v", got, want)
		}
		return nil
	}
}

func rsWantMap(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s[%s] = %q, want %q (all: %v)", what, k, got[k], v, got)
		}
	}
}

func TestSyncClusterRBACWithoutAgentDeployment(t *testing.T) {
	_, cfg, rec := rsCluster(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := syncClusterRBAC(ctx, rsClient(t, cfg), newClusterSetup("c-nodep")); err != nil {
		t.Fatal(err)
	}
	for _, r := range rec.take() {
		if r.resource == "deployments" && r.method != http.MethodGet {
			t.Errorf("%s %s without an agent deployment", r.method, r.path)
		}
	}
}

func TestUpdateWithRetry(t *testing.T) {
	_, cfg, rec := rsCluster(t, false)
	cs := rsClient(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nss := cs.CoreV1().Namespaces()
	set := func(k, v string) func(*corev1.Namespace) bool {
		return func(ns *corev1.Namespace) bool { return mergeInto(&ns.Annotations, map[string]string{k: v}) }
	}
	cases := []struct {
		name string
		// stale makes the copy handed to updateWithRetry out of date first.
		stale   bool
		mutate  func(*corev1.Namespace) bool
		methods string
	}{
		{"no change, no request", false, func(*corev1.Namespace) bool { return false }, ""},
		{"one PUT", false, set("a", "1"), "PUT 200"},
		{"conflict, fresh GET, PUT again", true, set("b", "2"), "PUT 409,GET 200,PUT 200"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cur, err := nss.Get(ctx, "kube-public", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if c.stale {
				other := cur.DeepCopy()
				other.Labels["other-writer"] = c.name[:8]
				if _, err := nss.Update(ctx, other, metav1.UpdateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			rec.take()
			out, err := updateWithRetry(ctx, cur, c.mutate, nss.Update, nss.Get)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range rec.take() {
				got = append(got, fmt.Sprintf("%s %d", r.method, r.status))
			}
			if strings.Join(got, ",") != c.methods {
				t.Errorf("requests %v, want %s", got, c.methods)
			}
			if c.stale && out.Labels["other-writer"] == "" {
				t.Errorf("the retry lost the other writer's label: %v", out.Labels)
			}
		})
	}
}
