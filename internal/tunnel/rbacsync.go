package tunnel

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/sirupsen/logrus"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
)

// The writes a Rancher v2.15 server makes to a freshly connected imported cluster, apart from
// impersonation (impersonation.go) and the agent manifest: the cluster and project RBAC of its
// user controllers (pkg/controllers/managementuser/rbac), the namespace annotations of several
// namespace handlers, and the agent Deployment's upgrade annotation (protocol §4 rows 7, 8 and
// 17; trace SUMMARY observations 3, 7 and 8 and its table of written objects).

const (
	annotationProjectID        = "field.cattle.io/projectId"
	annotationNamespaceAuth    = "lifecycle.cattle.io/create.namespace-auth"
	annotationNoDefaultSAToken = "management.cattle.io/no-default-sa-token"
	annotationCattleStatus     = "cattle.io/status"
	annotationClusterRoleOwner = "authz.cluster.cattle.io/clusterrole-owner"
	annotationProjectNSRole    = "authz.cluster.auth.io/project-namespaces"
	annotationAgentUpgraded    = "agent.cluster.cattle.io/upgraded-v1.22"
	labelRTBOwner              = "authz.cluster.cattle.io/rtb-owner-updated"
	labelRTBOwnerLegacy        = "authz.cluster.cattle.io/rtb-owner"
	labelRTBLabelUpdated       = "authz.cluster.cattle.io/rtb-label-updated"
	labelProjectScopedSecret   = "management.cattle.io/project-scoped-secret"
	labelManagedPullSecret     = "management.cattle.io/rancher-managed-pull-secret"

	agentNamespace  = "cattle-system"
	agentDeployment = "cattle-cluster-agent"

	// conflictRetries bounds the fresh-GET-and-retry loop on 409 Conflict.
	conflictRetries = 5
)

// rancherSystemNamespaces is the default of Rancher's system-namespaces setting
// (pkg/settings/setting.go): these namespaces go to the System project.
var rancherSystemNamespaces = map[string]bool{}

func init() {
	for _, ns := range strings.Split("kube-system,kube-public,cattle-system,cattle-alerting,cattle-logging,"+
		"cattle-pipeline,cattle-prometheus,ingress-nginx,cattle-global-data,cattle-istio,kube-node-lease,"+
		"cert-manager,cattle-global-nt,security-scan,cattle-fleet-system,cattle-fleet-local-system,"+
		"calico-system,tigera-operator,cattle-impersonation-system,rancher-operator-system,"+
		"cattle-csp-adapter-system,calico-apiserver,cattle-elemental-system,"+
		"cattle-provisioning-capi-system,cattle-ui-plugin-system", ",") {
		rancherSystemNamespaces[ns] = true
	}
}

// clusterSetup is what Rancher knows of an imported cluster when its user controllers start:
// the cluster and its two projects, the global admin (the cluster's creator, owner of both
// projects) and the owner of the cluster's provisioning object.
type clusterSetup struct {
	ClusterID      string // "c-xxxxx"
	DefaultProject string // "p-xxxxx"
	SystemProject  string // "p-xxxxx"
	AdminUser      string // "user-xxxxx"
	// AdminGlobalRoleBinding is the admin's GlobalRoleBinding ("globalrolebinding-xxxxx").
	AdminGlobalRoleBinding string
	// ClusterOwner is the user Rancher makes for the provisioning cluster's creator principal
	// ("u-xxxxxxxxxx"); empty skips its binding.
	ClusterOwner string
	// Log receives a line per sync; nil means none.
	Log *logrus.Entry
}

// newClusterSetup derives the ids of a cluster's projects and owner from its id, so that a
// reconnecting cluster meets the same objects, as it would in Rancher; the admin is the same
// for every cluster, as a Rancher has one.
func newClusterSetup(clusterID string) clusterSetup {
	adminUser := "user-" + rancherID("admin", 5)
	return clusterSetup{
		ClusterID:              clusterID,
		DefaultProject:         "p-" + rancherID(clusterID+"/default-project", 5),
		SystemProject:          "p-" + rancherID(clusterID+"/system-project", 5),
		AdminUser:              adminUser,
		AdminGlobalRoleBinding: "globalrolebinding-" + rancherID(adminUser+"/admin", 5),
		ClusterOwner:           "u-" + bindingHash(clusterID+"/owner"),
	}
}

// rancherID is a stable generated name suffix in the alphabet of Rancher's generated names.
func rancherID(seed string, n int) string {
	sum := sha256.Sum256([]byte(seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = tokenChars[int(sum[i])%len(tokenChars)]
	}
	return string(b)
}

// bindingHash is pkg/rbac's getBindingHash: the first ten characters of the lower-cased
// base32 SHA-256, so crb-/rb- names equal Rancher's for the same inputs.
func bindingHash(input string) string {
	sum := sha256.Sum256([]byte(input))
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:]))[:10]
}

// crbName and rbName are pkg/rbac NameForClusterRoleBinding and NameForRoleBinding for a
// ClusterRole and a user.
func crbName(role, user string) string { return "crb-" + bindingHash("ClusterRole"+role+"User"+user) }
func rbName(ns, role, user string) string {
	return "rb-" + bindingHash(ns+"ClusterRole"+role+"User"+user)
}

// projectOf is the project Rancher puts a namespace in: default goes to the Default project,
// system namespaces to the System project, the rest to none.
func (in clusterSetup) projectOf(ns string) string {
	switch {
	case ns == "default":
		return in.DefaultProject
	case rancherSystemNamespaces[ns]:
		return in.SystemProject
	}
	return ""
}

// syncClusterRBAC makes the writes of Rancher's user controllers on a newly connected
// cluster, in the trace's order: the agent Deployment's upgrade annotation, the admin's
// global binding, cluster and project roles and bindings, role bindings in every project
// namespace, the namespaces' project and lifecycle annotations (a full-object PUT per
// handler), the project namespace roles growing by one namespace per PUT, and the clean-up
// DELETEs of bindings and roles that do not exist (404, tolerated). Names follow Rancher's
// hashing, so a second run only meets existing objects (409 on create, then a GET; no PUT
// unless something drifted). Rancher reads through informer caches; here the namespaces come
// from one LIST and the other objects are known from the create responses.
func syncClusterRBAC(ctx context.Context, cs kubernetes.Interface, in clusterSetup) error {
	if in.ClusterID == "" || in.DefaultProject == "" || in.SystemProject == "" || in.AdminUser == "" {
		return fmt.Errorf("rbac sync: incomplete cluster setup %+v", in)
	}
	s := &rbacSync{cs: cs, in: in, now: time.Now().UTC().Format(time.RFC3339),
		namespaces: map[string]*corev1.Namespace{}, crbs: map[string]*rbacv1.ClusterRoleBinding{}}
	start := time.Now()
	steps := []struct {
		what string
		run  func(context.Context) error
	}{
		{"agent deployment", s.markAgentUpgraded},
		{"namespaces", s.loadNamespaces},
		{"global admin binding", s.globalAdminBinding},
		{"namespace resource quota status", s.namespaceStage(s.markResourceQuotaInit)},
		{"cluster roles", s.clusterRoles("cluster-owner", "project-owner")},
		{"legacy psa bindings", s.deleteLegacyPSABindings},
		{"namespace projects", s.namespaceStage(s.markProject)},
		{"cluster owner binding", s.creatorClusterOwnerBinding},
		{"project roles", s.projectRoles},
		{"project owner bindings", s.projectOwnerBindings},
		{"legacy psa roles", s.deleteLegacyPSARoles},
		{"project role bindings", s.projectRoleBindings},
		{"namespace default service-account tokens", s.namespaceStage(s.markNoDefaultSAToken)},
		{"project namespace roles", s.projectNamespaceRoles},
		{"role template binding labels", s.listLegacyLabelledBindings},
		{"namespace initial roles", s.namespaceStage(s.markInitialRolesPopulated)},
		{"provisioning owner binding", s.provisioningOwnerBinding},
	}
	for _, step := range steps {
		if err := step.run(ctx); err != nil {
			return fmt.Errorf("rbac sync of %s: %s: %w", in.ClusterID, step.what, err)
		}
	}
	if in.Log != nil {
		in.Log.WithField("cluster", in.ClusterID).WithField("duration", time.Since(start).Round(time.Millisecond)).
			Debug("rbac sync done")
	}
	return nil
}

type rbacSync struct {
	cs  kubernetes.Interface
	in  clusterSetup
	now string // LastUpdateTime of the conditions this sync adds
	// namespaces holds the latest copy of every namespace, in LIST order (order).
	namespaces map[string]*corev1.Namespace
	order      []string
	// nsRoles are the <project>-namespaces-edit/-readonly roles as last written.
	nsRoles map[string]*rbacv1.ClusterRole
	// crbs are the bindings this sync wrote or read, as Rancher's lister would return them.
	crbs map[string]*rbacv1.ClusterRoleBinding
}

// markAgentUpgraded is the statsaggregator's update on a version jump from ≤1.21 to ≥1.22
// (row 17): a pod-template annotation, which starts a rollout. No agent Deployment, no update.
func (s *rbacSync) markAgentUpgraded(ctx context.Context) error {
	deps := s.cs.AppsV1().Deployments(agentNamespace)
	d, err := deps.Get(ctx, agentDeployment, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = updateWithRetry(ctx, d, func(d *appsv1.Deployment) bool {
		if d.Spec.Template.Annotations[annotationAgentUpgraded] == "true" {
			return false
		}
		if d.Spec.Template.Annotations == nil {
			d.Spec.Template.Annotations = map[string]string{}
		}
		d.Spec.Template.Annotations[annotationAgentUpgraded] = "true"
		return true
	}, deps.Update, deps.Get)
	return err
}

// loadNamespaces stands in for the namespace informer's initial list, and creates
// cattle-impersonation-system (impersonator.createNamespace) if it is missing.
func (s *rbacSync) loadNamespaces(ctx context.Context) error {
	list, err := s.cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for i := range list.Items {
		ns := &list.Items[i]
		if ns.DeletionTimestamp != nil {
			continue
		}
		s.namespaces[ns.Name] = ns
		s.order = append(s.order, ns.Name)
	}
	if _, ok := s.namespaces[impersonationNamespace]; ok {
		return nil
	}
	ns, _, err := createOrGet(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: impersonationNamespace, Labels: map[string]string{labelImpersonator: "true"},
	}}, s.cs.CoreV1().Namespaces().Create, s.cs.CoreV1().Namespaces().Get)
	if err != nil {
		return err
	}
	s.namespaces[ns.Name] = ns
	s.order = append(s.order, ns.Name)
	return nil
}

// globalAdminBinding is the grb-cluster-sync handler's binding of the global admin to
// cluster-admin (globalrolebinding_handler.go).
func (s *rbacSync) globalAdminBinding(ctx context.Context) error {
	return s.ensureCRB(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{
			Name: "globaladmin-" + s.in.AdminUser,
			Annotations: map[string]string{
				"authz.cluster.cattle.io/admin-globalrole-checked": "true",
				"authz.cluster.cattle.io/globalrole":               "admin",
				"authz.cluster.cattle.io/globalrolebinding":        s.in.AdminGlobalRoleBinding,
			},
		},
		RoleRef:  rbacv1.RoleRef{Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects: []rbacv1.Subject{userSubject(s.in.AdminUser)},
	})
}

func userSubject(user string) rbacv1.Subject {
	return rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: "User", Name: user}
}

// clusterRoles are the role-template ClusterRoles (handler_base.go createClusterRole): created
// with the clusterrole-owner annotation, their rules brought back to the template's.
func (s *rbacSync) clusterRoles(names ...string) func(context.Context) error {
	return func(ctx context.Context) error {
		for _, name := range names {
			if err := s.ensureRoleTemplateRole(ctx, name); err != nil {
				return err
			}
		}
		return nil
	}
}

func (s *rbacSync) ensureRoleTemplateRole(ctx context.Context, name string) error {
	rules := roleTemplateRules[name]
	want := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}
	// project-owner-promoted is written by the PRTB handler, without the owner annotation.
	if name != "project-owner-promoted" {
		want.Annotations = map[string]string{annotationClusterRoleOwner: name}
	}
	crs := s.cs.RbacV1().ClusterRoles()
	cr, created, err := createOrGet(ctx, want, crs.Create, crs.Get)
	if err != nil || created {
		return err
	}
	_, err = updateWithRetry(ctx, cr, func(cr *rbacv1.ClusterRole) bool {
		if rulesEqual(cr.Rules, rules) {
			return false
		}
		cr.Rules = rules
		return true
	}, crs.Update, crs.Get)
	return err
}

// deleteLegacyPSABindings are the PRTB handler's clean-up of the bindings to
// <project>-namespaces-psa roles older versions made; they do not exist, so each DELETE is a
// 404. (Two of the four recorded names are these hashes for the admin; the other two are
// taken to be the same for the provisioning owner.)
func (s *rbacSync) deleteLegacyPSABindings(ctx context.Context) error {
	crbs := s.cs.RbacV1().ClusterRoleBindings()
	for _, p := range []string{s.in.SystemProject, s.in.DefaultProject} {
		for _, u := range []string{s.in.AdminUser, s.in.ClusterOwner} {
			if u == "" {
				continue
			}
			if err := deleteIgnoringNotFound(ctx, crbs.Delete, crbName(p+"-namespaces-psa", u)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *rbacSync) deleteLegacyPSARoles(ctx context.Context) error {
	for _, p := range []string{s.in.SystemProject, s.in.DefaultProject} {
		if err := deleteIgnoringNotFound(ctx, s.cs.RbacV1().ClusterRoles().Delete, p+"-namespaces-psa"); err != nil {
			return err
		}
	}
	return nil
}

func deleteIgnoringNotFound(ctx context.Context, del func(context.Context, string, metav1.DeleteOptions) error, name string) error {
	if err := del(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete %s: %w", name, err)
	}
	return nil
}

// creatorClusterOwnerBinding is the CRTB handler's binding for the cluster's creator
// (CRTB creator-cluster-owner in the cluster's namespace).
func (s *rbacSync) creatorClusterOwnerBinding(ctx context.Context) error {
	return s.ensureCRB(ctx, ownerBinding("cluster-owner", s.in.AdminUser,
		map[string]string{labelRTBOwner: s.in.ClusterID + "_creator-cluster-owner"}))
}

// provisioningOwnerBinding is the same for the provisioning cluster's owner (CRTB
// <cluster>-fleet-default-owner), which Rancher writes some seconds later.
func (s *rbacSync) provisioningOwnerBinding(ctx context.Context) error {
	if s.in.ClusterOwner == "" {
		return nil
	}
	return s.ensureCRB(ctx, ownerBinding("cluster-owner", s.in.ClusterOwner,
		map[string]string{labelRTBOwner: s.in.ClusterID + "_" + s.in.ClusterID + "-fleet-default-owner"}))
}

func ownerBinding(role, user string, labels map[string]string) *rbacv1.ClusterRoleBinding {
	return &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: crbName(role, user), Labels: labels},
		RoleRef:    rbacv1.RoleRef{Kind: "ClusterRole", Name: role},
		Subjects:   []rbacv1.Subject{userSubject(user)},
	}
}

// projectRoles are create-ns, each project's namespaces-readonly (no rules yet) and
// namespaces-edit (the project's manage-namespaces rule) roles, and project-owner-promoted.
func (s *rbacSync) projectRoles(ctx context.Context) error {
	if err := s.ensureRoleTemplateRole(ctx, "create-ns"); err != nil {
		return err
	}
	s.nsRoles = map[string]*rbacv1.ClusterRole{}
	crs := s.cs.RbacV1().ClusterRoles()
	for _, p := range []string{s.in.SystemProject, s.in.DefaultProject} {
		for _, verb := range []string{"readonly", "edit"} {
			name := p + "-namespaces-" + verb
			want := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{
				Name: name, Annotations: map[string]string{annotationProjectNSRole: name},
			}}
			if verb == "edit" {
				want.Rules = []rbacv1.PolicyRule{manageNamespacesRule(p)}
			}
			// An existing role keeps its namespaces; projectNamespaceRoles reconciles them.
			cr, _, err := createOrGet(ctx, want, crs.Create, crs.Get)
			if err != nil {
				return err
			}
			s.nsRoles[name] = cr
		}
	}
	return s.ensureRoleTemplateRole(ctx, "project-owner-promoted")
}

func manageNamespacesRule(project string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{APIGroups: []string{"management.cattle.io"}, Resources: []string{"projects"},
		ResourceNames: []string{project}, Verbs: []string{"manage-namespaces"}}
}

// projectOwnerBindings are the PRTB handler's cluster-level bindings for each project's
// creator-project-owner: create-ns and project-owner-promoted are shared by both projects
// (the second project adds its label with a PUT), namespaces-edit is per project.
func (s *rbacSync) projectOwnerBindings(ctx context.Context) error {
	for _, p := range []string{s.in.DefaultProject, s.in.SystemProject} {
		labels := map[string]string{p + "_creator-project-owner": "owner-user"}
		for _, role := range []string{"create-ns", p + "-namespaces-edit", "project-owner-promoted"} {
			if err := s.ensureCRB(ctx, ownerBinding(role, s.in.AdminUser, labels)); err != nil {
				return err
			}
		}
	}
	return nil
}

// ensureCRB creates a binding, or adds missing labels and annotations to an existing one.
// Subjects and roleRef are part of the hashed name, so they cannot differ.
func (s *rbacSync) ensureCRB(ctx context.Context, want *rbacv1.ClusterRoleBinding) error {
	crbs := s.cs.RbacV1().ClusterRoleBindings()
	crb, known := s.crbs[want.Name]
	if !known {
		var created bool
		var err error
		if crb, created, err = createOrGet(ctx, want, crbs.Create, crbs.Get); err != nil {
			return err
		}
		s.crbs[want.Name] = crb
		if created {
			return nil
		}
	}
	crb, err := updateWithRetry(ctx, crb, func(crb *rbacv1.ClusterRoleBinding) bool {
		labels := mergeInto(&crb.Labels, want.Labels)
		return mergeInto(&crb.Annotations, want.Annotations) || labels
	}, crbs.Update, crbs.Get)
	if err != nil {
		return err
	}
	s.crbs[want.Name] = crb
	return nil
}

// mergeInto sets want's entries in *m; it reports whether anything changed.
func mergeInto(m *map[string]string, want map[string]string) bool {
	changed := false
	for k, v := range want {
		if cur, ok := (*m)[k]; ok && cur == v {
			continue
		}
		if *m == nil {
			*m = map[string]string{}
		}
		(*m)[k] = v
		changed = true
	}
	return changed
}

// projectRoleBindings are the PRTB handler's role bindings for the project owner in each
// namespace of a project: to project-owner and to admin (ensureProjectRoleBindings).
func (s *rbacSync) projectRoleBindings(ctx context.Context) error {
	for _, ns := range s.order {
		p := s.in.projectOf(ns)
		if p == "" {
			continue
		}
		rbs := s.cs.RbacV1().RoleBindings(ns)
		for _, role := range []string{"project-owner", "admin"} {
			_, err := rbs.Create(ctx, &rbacv1.RoleBinding{
				ObjectMeta: metav1.ObjectMeta{
					Name: rbName(ns, role, s.in.AdminUser), Namespace: ns,
					Labels: map[string]string{labelRTBOwner: p + "_creator-project-owner"},
				},
				RoleRef:  rbacv1.RoleRef{Kind: "ClusterRole", Name: role},
				Subjects: []rbacv1.Subject{userSubject(s.in.AdminUser)},
			}, metav1.CreateOptions{})
			if err != nil && !apierrors.IsAlreadyExists(err) {
				return fmt.Errorf("create rolebinding %s/%s: %w", ns, rbName(ns, role, s.in.AdminUser), err)
			}
		}
	}
	return nil
}

// projectNamespaceRoles add each project namespace to its project's namespaces-readonly (get)
// and namespaces-edit (*) roles, one namespace per update, as the namespace handler does for
// each namespace it sees.
func (s *rbacSync) projectNamespaceRoles(ctx context.Context) error {
	crs := s.cs.RbacV1().ClusterRoles()
	for _, ns := range s.order {
		p := s.in.projectOf(ns)
		if p == "" {
			continue
		}
		for _, verb := range []string{"readonly", "edit"} {
			name := p + "-namespaces-" + verb
			cr, err := updateWithRetry(ctx, s.nsRoles[name], func(cr *rbacv1.ClusterRole) bool {
				return addProjectNamespace(cr, p, verb, ns)
			}, crs.Update, crs.Get)
			if err != nil {
				return err
			}
			s.nsRoles[name] = cr
		}
	}
	return nil
}

// addProjectNamespace puts ns into the namespaces rule of a project namespace role.
func addProjectNamespace(cr *rbacv1.ClusterRole, project, verb, ns string) bool {
	changed := false
	var rules []rbacv1.PolicyRule
	if verb == "edit" {
		if len(cr.Rules) == 0 || !rulesEqual(cr.Rules[:1], []rbacv1.PolicyRule{manageNamespacesRule(project)}) {
			cr.Rules = append([]rbacv1.PolicyRule{manageNamespacesRule(project)}, cr.Rules...)
			changed = true
		}
		rules = cr.Rules[1:]
	} else {
		rules = cr.Rules
	}
	k8sVerb := "get"
	if verb == "edit" {
		k8sVerb = "*"
	}
	for i := range rules {
		r := &rules[i]
		if len(r.Resources) == 1 && r.Resources[0] == "namespaces" {
			for _, n := range r.ResourceNames {
				if n == ns {
					return changed
				}
			}
			r.ResourceNames = append(r.ResourceNames, ns)
			return true
		}
	}
	cr.Rules = append(cr.Rules, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"namespaces"},
		ResourceNames: []string{ns}, Verbs: []string{k8sVerb}})
	return true
}

// listLegacyLabelledBindings are the CRTB and PRTB handlers' look-ups of bindings still
// carrying the pre-2.5 owner labels (label-selected LISTs; nothing matches).
func (s *rbacSync) listLegacyLabelledBindings(ctx context.Context) error {
	uid := func(rtb string) string {
		return uuid.NewSHA1(uuid.NameSpaceOID, []byte(s.in.ClusterID+"/"+rtb)).String()
	}
	selectors := []string{
		"!" + labelRTBLabelUpdated + "," + labelRTBOwnerLegacy + "=" + uid("creator-cluster-owner") + ",!" + labelRTBOwner,
		uid(s.in.SystemProject+"/creator-project-owner") + "=owner-user,!" + labelRTBLabelUpdated + ",!" + s.in.SystemProject + "_creator-project-owner",
		uid(s.in.DefaultProject+"/creator-project-owner") + "=owner-user,!" + labelRTBLabelUpdated + ",!" + s.in.DefaultProject + "_creator-project-owner",
	}
	if s.in.ClusterOwner != "" {
		selectors = append(selectors, "!"+labelRTBLabelUpdated+","+labelRTBOwnerLegacy+"="+uid("fleet-default-owner")+",!"+labelRTBOwner)
	}
	for _, sel := range selectors {
		if _, err := s.cs.RbacV1().ClusterRoleBindings().List(ctx, metav1.ListOptions{LabelSelector: sel}); err != nil {
			return fmt.Errorf("list clusterrolebindings %q: %w", sel, err)
		}
	}
	return nil
}

// namespaceStage applies one namespace handler's change to every namespace: a full-object
// PUT of the latest copy, a fresh GET and another try on conflict. After each update the
// project-resources handlers look for secrets to copy into the namespace.
func (s *rbacSync) namespaceStage(mutate func(*corev1.Namespace) bool) func(context.Context) error {
	return func(ctx context.Context) error {
		nss := s.cs.CoreV1().Namespaces()
		for _, name := range s.order {
			before := s.namespaces[name]
			ns, err := updateWithRetry(ctx, before, mutate, nss.Update, nss.Get)
			if err != nil {
				return err
			}
			s.namespaces[name] = ns
			if ns == before {
				continue
			}
			for _, label := range []string{labelProjectScopedSecret, labelManagedPullSecret} {
				if _, err := s.cs.CoreV1().Secrets(name).List(ctx, metav1.ListOptions{LabelSelector: label}); err != nil {
					return fmt.Errorf("list secrets in %s: %w", name, err)
				}
			}
		}
		return nil
	}
}

// markResourceQuotaInit is the resource quota controller's condition.
func (s *rbacSync) markResourceQuotaInit(ns *corev1.Namespace) bool {
	return setNamespaceCondition(ns, "ResourceQuotaInit", s.now)
}

// markProject is the namespace handlers' project assignment and the namespace-auth
// lifecycle's create annotation.
func (s *rbacSync) markProject(ns *corev1.Namespace) bool {
	want := map[string]string{annotationNamespaceAuth: "true"}
	if p := s.in.projectOf(ns.Name); p != "" {
		want[annotationProjectID] = s.in.ClusterID + ":" + p
	}
	return mergeInto(&ns.Annotations, want)
}

// markNoDefaultSAToken is nsserviceaccount's annotation on system-project namespaces other
// than default and kube-system (nsserviceaccount/nssvcaccnt.go).
func (s *rbacSync) markNoDefaultSAToken(ns *corev1.Namespace) bool {
	if ns.Name == "default" || ns.Name == "kube-system" ||
		ns.Annotations[annotationProjectID] != s.in.ClusterID+":"+s.in.SystemProject && !rancherSystemNamespaces[ns.Name] {
		return false
	}
	return mergeInto(&ns.Annotations, map[string]string{annotationNoDefaultSAToken: "true"})
}

// markInitialRolesPopulated is the namespace-auth lifecycle's condition once the project's
// roles are in place.
func (s *rbacSync) markInitialRolesPopulated(ns *corev1.Namespace) bool {
	return setNamespaceCondition(ns, "InitialRolesPopulated", s.now)
}

// cattleCondition is a condition in the cattle.io/status annotation, in Rancher's field order.
type cattleCondition struct {
	Type           string
	Status         string
	Message        string
	LastUpdateTime string
}

// setNamespaceCondition adds a True condition to the cattle.io/status annotation unless the
// namespace has it already.
func setNamespaceCondition(ns *corev1.Namespace, typ, now string) bool {
	var status struct {
		Conditions []cattleCondition
	}
	if raw := ns.Annotations[annotationCattleStatus]; raw != "" {
		// An unreadable annotation is replaced, as Rancher's object mapper would.
		_ = json.Unmarshal([]byte(raw), &status)
	}
	for _, c := range status.Conditions {
		if c.Type == typ && c.Status == "True" {
			return false
		}
	}
	status.Conditions = append(status.Conditions, cattleCondition{Type: typ, Status: "True", LastUpdateTime: now})
	b, err := json.Marshal(status)
	if err != nil {
		return false
	}
	return mergeInto(&ns.Annotations, map[string]string{annotationCattleStatus: string(b)})
}

// kubeObject is what the typed clients read and write.
type kubeObject interface {
	metav1.Object
	runtime.Object
}

// createOrGet creates obj; if it exists already, it returns the existing object (created
// false), as Rancher's handlers fall back to a raw GET when their cache lags.
func createOrGet[T kubeObject](ctx context.Context, obj T,
	create func(context.Context, T, metav1.CreateOptions) (T, error),
	get func(context.Context, string, metav1.GetOptions) (T, error),
) (T, bool, error) {
	out, err := create(ctx, obj, metav1.CreateOptions{})
	if err == nil {
		return out, true, nil
	}
	if !apierrors.IsAlreadyExists(err) {
		return out, false, fmt.Errorf("create %s: %w", obj.GetName(), err)
	}
	out, err = get(ctx, obj.GetName(), metav1.GetOptions{})
	if err != nil {
		return out, false, fmt.Errorf("get %s: %w", obj.GetName(), err)
	}
	return out, false, nil
}

// updateWithRetry applies mutate to a copy of cur and PUTs it if mutate reports a change;
// on 409 Conflict it GETs the object afresh and tries again, as Rancher's controllers do.
// It returns cur itself when nothing changed.
func updateWithRetry[T kubeObject](ctx context.Context, cur T, mutate func(T) bool,
	update func(context.Context, T, metav1.UpdateOptions) (T, error),
	get func(context.Context, string, metav1.GetOptions) (T, error),
) (T, error) {
	name := cur.GetName()
	for attempt := 1; ; attempt++ {
		next := cur.DeepCopyObject().(T)
		if !mutate(next) {
			return cur, nil
		}
		out, err := update(ctx, next, metav1.UpdateOptions{})
		if err == nil {
			return out, nil
		}
		if !apierrors.IsConflict(err) || attempt == conflictRetries {
			return cur, fmt.Errorf("update %s: %w", name, err)
		}
		fresh, err := get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return cur, fmt.Errorf("get %s: %w", name, err)
		}
		cur = fresh
	}
}

// rulesEqual compares rule lists, treating nil and empty lists alike (the server drops empty
// ones).
func rulesEqual(a, b []rbacv1.PolicyRule) bool {
	if len(a) != len(b) {
		return false
	}
	eq := func(x, y []string) bool {
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	for i := range a {
		if !eq(a[i].Verbs, b[i].Verbs) || !eq(a[i].APIGroups, b[i].APIGroups) || !eq(a[i].Resources, b[i].Resources) ||
			!eq(a[i].ResourceNames, b[i].ResourceNames) || !eq(a[i].NonResourceURLs, b[i].NonResourceURLs) {
			return false
		}
	}
	return true
}

// roleTemplateRules are the rules of the built-in role templates Rancher writes as
// ClusterRoles, as recorded (pkg/data/management/role_data.go).
var roleTemplateRules = map[string][]rbacv1.PolicyRule{
	"cluster-owner": {
		rule([]string{"*"}, []string{"*"}, "*"),
		rule([]string{"management.cattle.io"}, []string{"clusters"}, "own"),
		rule([]string{"provisioning.cattle.io"}, []string{"clusters"}, "*"),
		rule([]string{"rke.cattle.io"}, []string{"etcdsnapshots"}, "get", "list", "watch"),
		rule([]string{"cluster.x-k8s.io"}, []string{"machines"}, "*"),
		rule([]string{"rke-machine-config.cattle.io"}, []string{"*"}, "*"),
		rule([]string{"rke-machine.cattle.io"}, []string{"*"}, "*"),
		rule([]string{"management.cattle.io"}, []string{"projects"}, "updatepsa"),
		rule([]string{"management.cattle.io"}, []string{"clusterproxyconfigs"}, "*"),
		rule([]string{"operation.cattle.io"}, []string{"*"}, "*"),
		{NonResourceURLs: []string{"*"}, Verbs: []string{"*"}},
	},
	"project-owner": {
		rule([]string{"ui.cattle.io"}, []string{"navlinks"}, "get", "list", "watch"),
		rule([]string{""}, []string{"nodes"}, "get", "list", "watch"),
		rule([]string{"management.cattle.io"}, []string{"projectroletemplatebindings"}, "*"),
		rule([]string{""}, []string{"namespaces"}, "create"),
		rule([]string{""}, []string{"persistentvolumes"}, "get", "list", "watch"),
		rule([]string{"storage.k8s.io"}, []string{"storageclasses"}, "get", "list", "watch"),
		rule([]string{"apiregistration.k8s.io"}, []string{"apiservices"}, "get", "list", "watch"),
		rule([]string{""}, []string{"persistentvolumeclaims"}, "*"),
		rule([]string{"metrics.k8s.io"}, []string{"pods"}, "*"),
		rule([]string{"management.cattle.io"}, []string{"clusterevents"}, "get", "list", "watch"),
		rule([]string{"monitoring.coreos.com"}, []string{"prometheuses", "prometheusrules", "servicemonitors"}, "*"),
		rule([]string{"networking.istio.io"}, []string{"destinationrules", "envoyfilters", "gateways", "serviceentries", "sidecars", "virtualservices"}, "*"),
		rule([]string{"config.istio.io"}, []string{"apikeys", "authorizations", "checknothings", "circonuses", "deniers", "fluentds",
			"handlers", "kubernetesenvs", "kuberneteses", "listcheckers", "listentries", "logentries", "memquotas", "metrics", "opas",
			"prometheuses", "quotas", "quotaspecbindings", "quotaspecs", "rbacs", "reportnothings", "rules", "solarwindses",
			"stackdrivers", "statsds", "stdios"}, "*"),
		rule([]string{"authentication.istio.io"}, []string{"policies"}, "*"),
		rule([]string{"rbac.istio.io"}, []string{"rbacconfigs", "serviceroles", "servicerolebindings"}, "*"),
		rule([]string{"security.istio.io"}, []string{"authorizationpolicies"}, "*"),
		rule([]string{"management.cattle.io"}, []string{"projects"}, "own"),
		rule([]string{"catalog.cattle.io"}, []string{"clusterrepos"}, "get", "list", "watch"),
		rule([]string{"catalog.cattle.io"}, []string{"operations"}, "get", "list", "watch"),
		rule([]string{"catalog.cattle.io"}, []string{"releases"}, "get", "list", "watch"),
		rule([]string{"catalog.cattle.io"}, []string{"apps"}, "get", "list", "watch"),
		{APIGroups: []string{"management.cattle.io"}, Resources: []string{"clusters"}, ResourceNames: []string{"local"}, Verbs: []string{"get"}},
	},
	"project-owner-promoted": {
		rule([]string{"ui.cattle.io"}, []string{"navlinks"}, "get", "list", "watch"),
		rule([]string{""}, []string{"nodes"}, "get", "list", "watch"),
		rule([]string{""}, []string{"persistentvolumes"}, "get", "list", "watch"),
		rule([]string{"storage.k8s.io"}, []string{"storageclasses"}, "get", "list", "watch"),
		rule([]string{"apiregistration.k8s.io"}, []string{"apiservices"}, "get", "list", "watch"),
		rule([]string{"catalog.cattle.io"}, []string{"clusterrepos"}, "get", "list", "watch"),
		{APIGroups: []string{"management.cattle.io"}, Resources: []string{"clusters"}, ResourceNames: []string{"local"}, Verbs: []string{"get"}},
	},
	"create-ns": {
		rule([]string{""}, []string{"namespaces"}, "create"),
	},
}

func rule(groups, resources []string, verbs ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{APIGroups: groups, Resources: resources, Verbs: verbs}
}
