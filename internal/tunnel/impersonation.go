package tunnel

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// The impersonation set-up Rancher v2.15 makes in a downstream cluster for each user whose
// requests it proxies through /k8s/clusters/<id> (pkg/impersonation/impersonation.go and
// pkg/serviceaccounttoken/secret.go; trace SUMMARY observations 5 and 6).

const (
	impersonationNamespace = "cattle-impersonation-system"
	impersonationPrefix    = "cattle-impersonation-"
	labelImpersonator      = "authz.cluster.cattle.io/impersonator"
	// labelSATokenSecret and annotationSATokenSecretRef tie a token Secret and its service
	// account together in Rancher's pkg/serviceaccounttoken.
	labelSATokenSecret         = "cattle.io/service-account.name"
	annotationSATokenSecretRef = "rancher.io/service-account.secret-ref"

	// Extras of a Rancher user (pkg/auth/providers/common) and of the proxied request.
	extraPrincipalID    = "principalid"
	extraUsername       = "username"
	extraRequestTokenID = "requesttokenid"
	extraRequestHost    = "requesthost"

	// rancherK8sClientTimeout is the Timeout of clusterContext.K8sClient: its requests carry
	// ?timeout=45s in the trace.
	rancherK8sClientTimeout = 45 * time.Second
	// Rancher's controllers' clients ask for protobuf first and send JSON (trace H2/H3).
	rancherControllerAccept = "application/vnd.kubernetes.protobuf, application/json"
)

// impersonationGroups are the groups the /k8s/clusters proxy impersonates for a local user.
var impersonationGroups = []string{"system:authenticated", "system:cattle:authenticated"}

// tokenSecretPoll is how ensureImpersonation waits for the token controller to fill the Secret:
// Rancher's EnsureSecretForServiceAccount starts at 2 ms with a 100 ms cap; §4 row 10 of the
// protocol notes it gives up after about 5 s.
var tokenSecretPoll = wait.Backoff{Duration: 2 * time.Millisecond, Factor: 2, Cap: 100 * time.Millisecond, Steps: 60}

// rancherClients is the pair of clientsets Rancher keeps per downstream cluster, so that a
// hermetic run sends each request with the media types Rancher does: the controllers' (wrangler)
// clients read protobuf-first, send JSON and set no timeout; clusterContext.K8sClient, which
// pkg/serviceaccounttoken writes the token Secret and the ServiceAccount with, is a plain
// client-go clientset: protobuf bodies and reads, ?timeout=45s. Pass it wherever a
// kubernetes.Interface is asked for; a plain clientset works too, with JSON everywhere.
type rancherClients struct {
	kubernetes.Interface
	k8s kubernetes.Interface
	// transports are both clientsets' HTTP transports, for closeIdle.
	transports []http.RoundTripper
}

// closeIdle closes both clientsets' idle keep-alive connections, so that none outlives the
// driver through the tunnel.
func (rc *rancherClients) closeIdle() {
	for _, t := range rc.transports {
		utilnet.CloseIdleConnectionsFor(t)
	}
}

// newRancherClients builds both clientsets from a cluster's config (Endpoint.RESTConfig).
func newRancherClients(cfg *rest.Config) (*rancherClients, error) {
	ctrl := rest.CopyConfig(cfg)
	ctrl.AcceptContentTypes = rancherControllerAccept
	ctrl.ContentType = "application/json"
	ctrl.Timeout = 0
	ctrlHTTP, err := rest.HTTPClientFor(ctrl)
	if err != nil {
		return nil, fmt.Errorf("controller clientset: %w", err)
	}
	controllers, err := kubernetes.NewForConfigAndClient(ctrl, ctrlHTTP)
	if err != nil {
		return nil, fmt.Errorf("controller clientset: %w", err)
	}
	plain := rest.CopyConfig(cfg)
	// Unset content types make the generated typed clients protobuf-first for built-in types.
	plain.AcceptContentTypes = ""
	plain.ContentType = ""
	plain.Timeout = rancherK8sClientTimeout
	plainHTTP, err := rest.HTTPClientFor(plain)
	if err != nil {
		return nil, fmt.Errorf("k8s clientset: %w", err)
	}
	k8s, err := kubernetes.NewForConfigAndClient(plain, plainHTTP)
	if err != nil {
		return nil, fmt.Errorf("k8s clientset: %w", err)
	}
	return &rancherClients{Interface: controllers, k8s: k8s,
		transports: []http.RoundTripper{ctrlHTTP.Transport, plainHTTP.Transport}}, nil
}

// k8sClientOf is the clientset standing in for clusterContext.K8sClient.
func k8sClientOf(cs kubernetes.Interface) kubernetes.Interface {
	if rc, ok := cs.(*rancherClients); ok && rc.k8s != nil {
		return rc.k8s
	}
	return cs
}

// impersonationUser is the Rancher user a service account impersonates: its id ("user-xxxxx"
// or "u-xxxxxxxxxx"), groups and extras (principalid, username).
type impersonationUser struct {
	ID     string
	Groups []string
	Extra  map[string][]string
}

// localUser is a Rancher local user as the proxy sees it: its local principal and the
// authenticated groups.
func localUser(id string, groups []string) impersonationUser {
	if groups == nil {
		groups = impersonationGroups
	}
	return impersonationUser{ID: id, Groups: groups, Extra: map[string][]string{extraPrincipalID: {"local://" + id}}}
}

// adminImpersonation is the global admin as the trace's proxy impersonated it: a local
// user whose username extra is "admin".
func (in clusterSetup) adminImpersonation() impersonationUser {
	u := localUser(in.AdminUser, nil)
	u.Extra[extraUsername] = []string{"admin"}
	return u
}

// ownerImpersonation is the provisioning cluster's owner, whom Rancher sets up about 19 s
// after connect: its principals are its local one and the provisioning cluster's.
func (in clusterSetup) ownerImpersonation() impersonationUser {
	u := localUser(in.ClusterOwner, nil)
	u.Extra[extraPrincipalID] = append(u.Extra[extraPrincipalID], "system://provisioning/fleet-default/"+in.ClusterID)
	return u
}

// ensureImpersonation makes the impersonation objects for a local user and returns the token
// of its service account, as Rancher's impersonator.GetToken does.
func ensureImpersonation(ctx context.Context, cs kubernetes.Interface, user string, groups []string) (string, error) {
	return ensureImpersonationFor(ctx, cs, localUser(user, groups))
}

// ensureImpersonationFor creates, in Rancher's order, ClusterRole, ServiceAccount, token Secret
// (then the ServiceAccount's secret reference and the wait for the token) and
// ClusterRoleBinding cattle-impersonation-<user>, and returns the token. Rancher looks the
// objects up in informer caches first; here the look-ups are GETs, so a first call costs one
// GET (the missing ClusterRole) more than Rancher, and a second call only reads.
func ensureImpersonationFor(ctx context.Context, cs kubernetes.Interface, u impersonationUser) (string, error) {
	if u.ID == "" {
		return "", errors.New("impersonation: no user")
	}
	name := impersonationPrefix + u.ID
	rules := impersonationRules(u)

	// impersonator.setup: an up-to-date role with its binding and service account is reused.
	role, err := cs.RbacV1().ClusterRoles().Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		role = nil
	case err != nil:
		return "", fmt.Errorf("impersonation: get clusterrole %s: %w", name, err)
	default:
		if role, err = updateImpersonationRules(ctx, cs, role, rules); err != nil {
			return "", err
		}
	}
	var sa *corev1.ServiceAccount
	if role != nil {
		if _, err := cs.RbacV1().ClusterRoleBindings().Get(ctx, name, metav1.GetOptions{}); err == nil {
			sa, err = cs.CoreV1().ServiceAccounts(impersonationNamespace).Get(ctx, name, metav1.GetOptions{})
			if err != nil && !apierrors.IsNotFound(err) {
				return "", fmt.Errorf("impersonation: get serviceaccount %s: %w", name, err)
			}
		} else if !apierrors.IsNotFound(err) {
			return "", fmt.Errorf("impersonation: get clusterrolebinding %s: %w", name, err)
		}
	}
	if sa == nil {
		if role == nil {
			if role, err = createImpersonationRole(ctx, cs, name, rules); err != nil {
				return "", err
			}
		}
		if sa, err = createImpersonationSA(ctx, cs, name, role); err != nil {
			return "", err
		}
		// createServiceAccount ensures the token Secret before the binding exists; GetToken
		// then finds that Secret in its cache.
		secret, err := ensureSATokenSecret(ctx, k8sClientOf(cs), sa)
		if err != nil {
			return "", fmt.Errorf("impersonation: error ensuring secret for service account %s: %w", name, err)
		}
		if err := createImpersonationBinding(ctx, cs, name, role, sa); err != nil {
			return "", err
		}
		return string(secret.Data[corev1.ServiceAccountTokenKey]), nil
	}
	secret, err := ensureSATokenSecret(ctx, k8sClientOf(cs), sa)
	if err != nil {
		return "", fmt.Errorf("impersonation: error getting secret: %w", err)
	}
	return string(secret.Data[corev1.ServiceAccountTokenKey]), nil
}

// impersonationRules are impersonator.rulesForUser: the user, any request token id and host,
// the user's groups, principal ids and username.
func impersonationRules(u impersonationUser) []rbacv1.PolicyRule {
	imp := []string{"impersonate"}
	rules := []rbacv1.PolicyRule{
		{Verbs: imp, APIGroups: []string{""}, Resources: []string{"users"}, ResourceNames: []string{u.ID}},
		{Verbs: imp, APIGroups: []string{"authentication.k8s.io"}, Resources: []string{"userextras/" + extraRequestTokenID}},
		{Verbs: imp, APIGroups: []string{"authentication.k8s.io"}, Resources: []string{"userextras/" + extraRequestHost}},
	}
	if len(u.Groups) > 0 {
		rules = append(rules, rbacv1.PolicyRule{Verbs: imp, APIGroups: []string{""}, Resources: []string{"groups"}, ResourceNames: u.Groups})
	}
	for _, key := range []string{extraPrincipalID, extraUsername} {
		if v, ok := u.Extra[key]; ok {
			rules = append(rules, rbacv1.PolicyRule{Verbs: imp, APIGroups: []string{"authentication.k8s.io"}, Resources: []string{"userextras/" + key}, ResourceNames: v})
		}
	}
	return rules
}

// updateImpersonationRules is checkAndUpdateRole: rules that changed (new groups or
// principals) are replaced, retrying conflicts with a fresh GET.
func updateImpersonationRules(ctx context.Context, cs kubernetes.Interface, role *rbacv1.ClusterRole, rules []rbacv1.PolicyRule) (*rbacv1.ClusterRole, error) {
	crs := cs.RbacV1().ClusterRoles()
	out, err := updateWithRetry(ctx, role, func(r *rbacv1.ClusterRole) bool {
		if equality.Semantic.DeepEqual(r.Rules, rules) {
			return false
		}
		r.Rules = rules
		return true
	}, crs.Update, crs.Get)
	if err != nil {
		return nil, fmt.Errorf("impersonation: update clusterrole %s: %w", role.Name, err)
	}
	return out, nil
}

func createImpersonationRole(ctx context.Context, cs kubernetes.Interface, name string, rules []rbacv1.PolicyRule) (*rbacv1.ClusterRole, error) {
	role, _, err := createOrGet(ctx, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{labelImpersonator: "true"}},
		Rules:      rules,
	}, cs.RbacV1().ClusterRoles().Create, cs.RbacV1().ClusterRoles().Get)
	if err != nil {
		return nil, fmt.Errorf("impersonation: create clusterrole %s: %w", name, err)
	}
	return role, nil
}

// impersonationOwner makes the ClusterRole the owner of the SA and binding, for clean-up.
func impersonationOwner(role *rbacv1.ClusterRole) []metav1.OwnerReference {
	return []metav1.OwnerReference{{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole", Name: role.Name, UID: role.UID}}
}

func createImpersonationSA(ctx context.Context, cs kubernetes.Interface, name string, role *rbacv1.ClusterRole) (*corev1.ServiceAccount, error) {
	sas := cs.CoreV1().ServiceAccounts(impersonationNamespace)
	want := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{
		Name: name, Namespace: impersonationNamespace,
		Labels:          map[string]string{labelImpersonator: "true"},
		OwnerReferences: impersonationOwner(role),
	}}
	sa, _, err := createOrGet(ctx, want, sas.Create, sas.Get)
	if apierrors.IsNotFound(err) {
		// impersonator.createNamespace runs first in Rancher; here the namespace is made only
		// when missing (syncClusterRBAC normally creates it).
		if err = ensureImpersonationNamespace(ctx, cs); err == nil {
			sa, _, err = createOrGet(ctx, want, sas.Create, sas.Get)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("impersonation: create serviceaccount %s: %w", name, err)
	}
	return sa, nil
}

// ensureImpersonationNamespace is impersonator.createNamespace.
func ensureImpersonationNamespace(ctx context.Context, cs kubernetes.Interface) error {
	_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: impersonationNamespace, Labels: map[string]string{labelImpersonator: "true"},
	}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", impersonationNamespace, err)
	}
	return nil
}

func createImpersonationBinding(ctx context.Context, cs kubernetes.Interface, name string, role *rbacv1.ClusterRole, sa *corev1.ServiceAccount) error {
	_, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{
			Name:            name,
			Labels:          map[string]string{labelImpersonator: "true"},
			OwnerReferences: impersonationOwner(role),
		},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: sa.Name, Namespace: sa.Namespace}},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
	}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("impersonation: create clusterrolebinding %s: %w", name, err)
	}
	return nil
}

// ensureSATokenSecret is serviceaccounttoken.EnsureSecretForServiceAccount with the K8sClient:
// the Secret the SA refers to, or a new service-account-token Secret (generateName
// <sa>-token-) whose reference goes on the SA (a conflicting SA update rolls the Secret back
// and rereads the SA); then it polls the Secret until the token controller has filled it.
func ensureSATokenSecret(ctx context.Context, k8s kubernetes.Interface, sa *corev1.ServiceAccount) (*corev1.Secret, error) {
	secrets := k8s.CoreV1().Secrets(sa.Namespace)
	sas := k8s.CoreV1().ServiceAccounts(sa.Namespace)
	var secret *corev1.Secret
	for attempt := 0; secret == nil; attempt++ {
		if attempt == 5 {
			return nil, fmt.Errorf("service account %s/%s: its secret reference keeps changing", sa.Namespace, sa.Name)
		}
		if ref := sa.Annotations[annotationSATokenSecretRef]; ref != "" {
			s, err := referencedTokenSecret(ctx, secrets, sa, ref)
			if err != nil {
				return nil, err
			}
			if s != nil {
				secret = s
				break
			}
		}
		created, err := secrets.Create(ctx, tokenSecretTemplate(sa), metav1.CreateOptions{})
		if err != nil {
			return nil, fmt.Errorf("error ensuring secret for service account %s/%s: %w", sa.Namespace, sa.Name, err)
		}
		next := sa.DeepCopy()
		if next.Annotations == nil {
			next.Annotations = map[string]string{}
		}
		next.Annotations[annotationSATokenSecretRef] = created.Namespace + "/" + created.Name
		if _, err = sas.Update(ctx, next, metav1.UpdateOptions{}); err == nil {
			secret = created
			break
		}
		if !apierrors.IsConflict(err) {
			return nil, fmt.Errorf("annotate service account %s/%s: %w", sa.Namespace, sa.Name, err)
		}
		// annotateSAWithSecret: another writer won; roll back the optimistic Secret and use
		// the reference the SA now holds.
		if err := secrets.Delete(ctx, created.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("deleting optimistically locked secret %s/%s: %w", created.Namespace, created.Name, err)
		}
		if sa, err = sas.Get(ctx, sa.Name, metav1.GetOptions{}); err != nil {
			return nil, fmt.Errorf("getting updated service account %s/%s: %w", sa.Namespace, sa.Name, err)
		}
	}
	if len(secret.Data[corev1.ServiceAccountTokenKey]) > 0 {
		return secret, nil
	}
	name := secret.Name
	err := wait.ExponentialBackoffWithContext(ctx, tokenSecretPoll, func(ctx context.Context) (bool, error) {
		s, err := secrets.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		secret = s
		return len(s.Data[corev1.ServiceAccountTokenKey]) > 0, nil
	})
	if err != nil {
		return nil, fmt.Errorf("waiting for the token of secret %s/%s: %w", sa.Namespace, name, err)
	}
	return secret, nil
}

// referencedTokenSecret returns the Secret an SA's reference names, or nil if it is gone or
// belongs to another service account.
func referencedTokenSecret(ctx context.Context, secrets interface {
	Get(context.Context, string, metav1.GetOptions) (*corev1.Secret, error)
}, sa *corev1.ServiceAccount, ref string) (*corev1.Secret, error) {
	ns, name, ok := strings.Cut(ref, "/")
	if !ok || ns != sa.Namespace {
		return nil, nil
	}
	s, err := secrets.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get secret %s: %w", ref, err)
	}
	if s.Type != corev1.SecretTypeServiceAccountToken || s.Annotations[corev1.ServiceAccountNameKey] != sa.Name {
		return nil, nil
	}
	return s, nil
}

// tokenSecretTemplate is serviceaccounttoken.SecretTemplate.
func tokenSecretTemplate(sa *corev1.ServiceAccount) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName:    sa.Name + "-token-",
			Namespace:       sa.Namespace,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "ServiceAccount", Name: sa.Name, UID: sa.UID}},
			Annotations:     map[string]string{corev1.ServiceAccountNameKey: sa.Name},
			Labels:          map[string]string{labelSATokenSecret: sa.Name},
		},
		Type: corev1.SecretTypeServiceAccountToken,
	}
}

// impersonatedConfig is how the /k8s/clusters proxy reaches the cluster for a user: the
// impersonation service account's token as bearer, and the user, its groups and the extras
// (principalid, requesthost, requesttokenid, username) as Impersonate-* headers.
// Nil groups mean the groups of a local user.
// The base's transport settings (dialer, wrappers, TLS roots) stay; its credentials go.
func impersonatedConfig(base *rest.Config, token, user string, groups []string, extra map[string][]string) *rest.Config {
	cfg := rest.CopyConfig(base)
	cfg.BearerToken, cfg.BearerTokenFile = token, ""
	cfg.Username, cfg.Password = "", ""
	cfg.CertData, cfg.CertFile, cfg.KeyData, cfg.KeyFile = nil, "", nil, ""
	cfg.AuthProvider, cfg.ExecProvider = nil, nil
	if groups == nil {
		groups = impersonationGroups
	}
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: groups, Extra: extra}
	return cfg
}

// proxyExtra are the extras the proxy impersonates for a local user's request.
func proxyExtra(user, username, requestHost, tokenID string) map[string][]string {
	extra := map[string][]string{extraPrincipalID: {"local://" + user}}
	if username != "" {
		extra[extraUsername] = []string{username}
	}
	if requestHost != "" {
		extra[extraRequestHost] = []string{requestHost}
	}
	if tokenID != "" {
		extra[extraRequestTokenID] = []string{tokenID}
	}
	return extra
}
