package mockapi

import (
	"net"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// The core/v1 defaulting of a 1.36 kube-apiserver.

// roundResourceList rounds every quantity up to milli precision, as the API does with all
// resource lists (so "0.0001" CPU becomes "1m").
func roundResourceList(l corev1.ResourceList) {
	for name, q := range l {
		q.RoundUp(resource.Milli)
		l[name] = q
	}
}

// ---- pods and pod templates ----

// defaultPod is the defaulting of a Pod: what every PodSpec gets, plus what only a Pod (and
// not a workload's template) gets: requests from limits, pod-level requests and hugepage
// limits, enableServiceLinks, and host ports on the host network.
func defaultPod(pod *corev1.Pod) {
	spec := &pod.Spec
	requestsFromLimits(spec.Containers)
	requestsFromLimits(spec.InitContainers)
	// Pod-level resources (PodLevelResources, beta and on in 1.36), after the container
	// requests above.
	defaultPodLevelHugePageLimits(pod)
	defaultPodLevelRequests(pod)
	setIfNil(&spec.EnableServiceLinks, corev1.DefaultEnableServiceLinks)
	if spec.HostNetwork {
		hostPortsFromContainerPorts(spec.Containers)
		hostPortsFromContainerPorts(spec.InitContainers)
	}
	defaultPodSpec(spec)
	defaultPodStatus(&pod.Status)
}

// requestsFromLimits sets each container's missing requests to its limits.
func requestsFromLimits(containers []corev1.Container) {
	for i := range containers {
		r := &containers[i].Resources
		if r.Limits == nil {
			continue
		}
		if r.Requests == nil {
			r.Requests = corev1.ResourceList{}
		}
		for name, limit := range r.Limits {
			if _, ok := r.Requests[name]; !ok {
				r.Requests[name] = limit.DeepCopy()
			}
		}
	}
}

func hostPortsFromContainerPorts(containers []corev1.Container) {
	for i := range containers {
		for j := range containers[i].Ports {
			if p := &containers[i].Ports[j]; p.HostPort == 0 {
				p.HostPort = p.ContainerPort
			}
		}
	}
}

func defaultPodStatus(st *corev1.PodStatus) {
	for _, statuses := range [][]corev1.ContainerStatus{st.InitContainerStatuses, st.ContainerStatuses, st.EphemeralContainerStatuses} {
		for i := range statuses {
			roundResourceList(statuses[i].AllocatedResources)
			roundResourceRequirements(statuses[i].Resources)
		}
	}
	roundResourceList(st.AllocatedResources)
	roundResourceRequirements(st.Resources)
}

func roundResourceRequirements(r *corev1.ResourceRequirements) {
	if r != nil {
		roundResourceList(r.Limits)
		roundResourceList(r.Requests)
	}
}

// isPodLevelResource reports whether pod-level resources may name the resource.
func isPodLevelResource(name corev1.ResourceName) bool {
	return name == corev1.ResourceCPU || name == corev1.ResourceMemory || isHugePageResource(name)
}

func isHugePageResource(name corev1.ResourceName) bool {
	return strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix)
}

// isOvercommitAllowed: native resources (unprefixed or *kubernetes.io/) other than hugepages.
func isOvercommitAllowed(name corev1.ResourceName) bool {
	native := !strings.Contains(string(name), "/") || strings.Contains(string(name), corev1.ResourceDefaultNamespacePrefix)
	return native && !isHugePageResource(name)
}

// defaultPodLevelHugePageLimits sets pod-level hugepage limits, when pod-level resources are
// given but those limits are not, to what the containers' limits add up to.
func defaultPodLevelHugePageLimits(pod *corev1.Pod) {
	res := pod.Spec.Resources
	if res == nil || len(res.Limits) == 0 && len(res.Requests) == 0 {
		return
	}
	limits := res.Limits
	if limits == nil {
		limits = corev1.ResourceList{}
	}
	for name, q := range effectiveContainerResources(pod, func(c *corev1.Container) corev1.ResourceList { return c.Resources.Limits }) {
		if !isPodLevelResource(name) || !isHugePageResource(name) {
			continue
		}
		if _, ok := res.Requests[name]; ok {
			continue // a hugepage request keeps the limit undefaulted
		}
		if _, ok := limits[name]; !ok {
			limits[name] = q.DeepCopy()
		}
	}
	if len(limits) > 0 {
		res.Limits = limits
	}
}

// defaultPodLevelRequests sets pod-level requests, when pod-level limits are given, to the
// containers' effective requests, or failing those, to the pod-level limits.
func defaultPodLevelRequests(pod *corev1.Pod) {
	res := pod.Spec.Resources
	if res == nil || len(res.Limits) == 0 {
		return
	}
	requests := res.Requests
	if requests == nil {
		requests = corev1.ResourceList{}
	}
	for name, q := range effectiveContainerResources(pod, func(c *corev1.Container) corev1.ResourceList { return c.Resources.Requests }) {
		if _, ok := requests[name]; !ok && isPodLevelResource(name) && isOvercommitAllowed(name) {
			requests[name] = q.DeepCopy()
		}
	}
	for name, q := range res.Limits {
		if _, ok := requests[name]; !ok && isPodLevelResource(name) {
			requests[name] = q.DeepCopy()
		}
	}
	if len(requests) > 0 {
		res.Requests = requests
	}
}

// effectiveContainerResources is what a pod's containers need of each resource at their
// peak: the regular containers and sidecars (restartable init containers) together, or an
// init container together with the sidecars started before it, whichever is more.
func effectiveContainerResources(pod *corev1.Pod, of func(*corev1.Container) corev1.ResourceList) corev1.ResourceList {
	sum := corev1.ResourceList{}
	for i := range pod.Spec.Containers {
		addResources(sum, of(&pod.Spec.Containers[i]))
	}
	sidecars := corev1.ResourceList{}
	initPeak := corev1.ResourceList{}
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		var use corev1.ResourceList
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			addResources(sum, of(c))
			addResources(sidecars, of(c))
			use = sidecars
		} else {
			use = corev1.ResourceList{}
			addResources(use, of(c))
			addResources(use, sidecars)
		}
		maxResources(initPeak, use)
	}
	maxResources(sum, initPeak)
	return sum
}

func addResources(into, l corev1.ResourceList) {
	for name, q := range l {
		if cur, ok := into[name]; ok {
			cur.Add(q)
			into[name] = cur
		} else {
			into[name] = q.DeepCopy()
		}
	}
}

func maxResources(into, l corev1.ResourceList) {
	for name, q := range l {
		if cur, ok := into[name]; !ok || q.Cmp(cur) > 0 {
			into[name] = q.DeepCopy()
		}
	}
}

// defaultPodSpec is the defaulting of every PodSpec, a Pod's or a template's.
func defaultPodSpec(spec *corev1.PodSpec) {
	if spec.DNSPolicy == "" {
		spec.DNSPolicy = corev1.DNSClusterFirst
	}
	if spec.RestartPolicy == "" {
		spec.RestartPolicy = corev1.RestartPolicyAlways
	}
	setIfNil(&spec.SecurityContext, corev1.PodSecurityContext{})
	setIfNil(&spec.TerminationGracePeriodSeconds, corev1.DefaultTerminationGracePeriodSeconds)
	if spec.SchedulerName == "" {
		spec.SchedulerName = corev1.DefaultSchedulerName
	}
	for i := range spec.Volumes {
		defaultVolume(&spec.Volumes[i])
	}
	for i := range spec.InitContainers {
		defaultContainer(&spec.InitContainers[i])
	}
	for i := range spec.Containers {
		defaultContainer(&spec.Containers[i])
	}
	for i := range spec.EphemeralContainers {
		defaultContainer((*corev1.Container)(&spec.EphemeralContainers[i].EphemeralContainerCommon))
	}
	roundResourceList(spec.Overhead)
	roundResourceRequirements(spec.Resources)
}

// defaultPodTemplateSpec defaults the template of a workload (no Pod-only defaults).
func defaultPodTemplateSpec(t *corev1.PodTemplateSpec) {
	if t != nil {
		defaultPodSpec(&t.Spec)
	}
}

func defaultPodTemplate(pt *corev1.PodTemplate) {
	defaultPodTemplateSpec(&pt.Template)
}

func defaultContainer(c *corev1.Container) {
	if c.ImagePullPolicy == "" {
		c.ImagePullPolicy = defaultPullPolicy(c.Image)
	}
	if c.TerminationMessagePath == "" {
		c.TerminationMessagePath = corev1.TerminationMessagePathDefault
	}
	if c.TerminationMessagePolicy == "" {
		c.TerminationMessagePolicy = corev1.TerminationMessageReadFile
	}
	for i := range c.Ports {
		if c.Ports[i].Protocol == "" {
			c.Ports[i].Protocol = corev1.ProtocolTCP
		}
	}
	for i := range c.Env {
		if from := c.Env[i].ValueFrom; from != nil {
			defaultFieldRef(from.FieldRef)
			if from.FileKeyRef != nil {
				setIfNil(&from.FileKeyRef.Optional, false)
			}
		}
	}
	roundResourceList(c.Resources.Limits)
	roundResourceList(c.Resources.Requests)
	defaultProbe(c.LivenessProbe)
	defaultProbe(c.ReadinessProbe)
	defaultProbe(c.StartupProbe)
	if l := c.Lifecycle; l != nil {
		for _, h := range []*corev1.LifecycleHandler{l.PostStart, l.PreStop} {
			if h != nil {
				defaultHTTPGet(h.HTTPGet)
			}
		}
	}
}

func defaultProbe(p *corev1.Probe) {
	if p == nil {
		return
	}
	if p.TimeoutSeconds == 0 {
		p.TimeoutSeconds = 1
	}
	if p.PeriodSeconds == 0 {
		p.PeriodSeconds = 10
	}
	if p.SuccessThreshold == 0 {
		p.SuccessThreshold = 1
	}
	if p.FailureThreshold == 0 {
		p.FailureThreshold = 3
	}
	defaultHTTPGet(p.HTTPGet)
	if p.GRPC != nil {
		setIfNil(&p.GRPC.Service, "")
	}
}

func defaultHTTPGet(h *corev1.HTTPGetAction) {
	if h == nil {
		return
	}
	if h.Path == "" {
		h.Path = "/"
	}
	if h.Scheme == "" {
		h.Scheme = corev1.URISchemeHTTP
	}
}

func defaultFieldRef(f *corev1.ObjectFieldSelector) {
	if f != nil && f.APIVersion == "" {
		f.APIVersion = "v1"
	}
}

func defaultVolume(v *corev1.Volume) {
	src := &v.VolumeSource
	if ptr.AllPtrFieldsNil(src) {
		src.EmptyDir = &corev1.EmptyDirVolumeSource{}
	}
	// ImageVolume is GA in 1.36.
	if src.Image != nil && src.Image.PullPolicy == "" {
		src.Image.PullPolicy = defaultPullPolicy(src.Image.Reference)
	}
	if src.HostPath != nil {
		setIfNil(&src.HostPath.Type, corev1.HostPathUnset)
	}
	if src.Secret != nil {
		setIfNil(&src.Secret.DefaultMode, corev1.SecretVolumeSourceDefaultMode)
	}
	if src.ISCSI != nil {
		defaultISCSI(&src.ISCSI.ISCSIInterface)
	}
	if src.RBD != nil {
		defaultRBD(&src.RBD.RBDPool, &src.RBD.RadosUser, &src.RBD.Keyring)
	}
	if d := src.DownwardAPI; d != nil {
		setIfNil(&d.DefaultMode, corev1.DownwardAPIVolumeSourceDefaultMode)
		for i := range d.Items {
			defaultFieldRef(d.Items[i].FieldRef)
		}
	}
	if src.ConfigMap != nil {
		setIfNil(&src.ConfigMap.DefaultMode, corev1.ConfigMapVolumeSourceDefaultMode)
	}
	if d := src.AzureDisk; d != nil {
		defaultAzureDisk(&d.CachingMode, &d.FSType, &d.ReadOnly, &d.Kind)
	}
	if p := src.Projected; p != nil {
		setIfNil(&p.DefaultMode, corev1.ProjectedVolumeSourceDefaultMode)
		for i := range p.Sources {
			if d := p.Sources[i].DownwardAPI; d != nil {
				for j := range d.Items {
					defaultFieldRef(d.Items[j].FieldRef)
				}
			}
			if t := p.Sources[i].ServiceAccountToken; t != nil {
				setIfNil(&t.ExpirationSeconds, 3600)
			}
		}
	}
	if s := src.ScaleIO; s != nil {
		defaultScaleIO(&s.StorageMode, &s.FSType)
	}
	if e := src.Ephemeral; e != nil && e.VolumeClaimTemplate != nil {
		defaultPersistentVolumeClaimSpec(&e.VolumeClaimTemplate.Spec)
	}
}

// The declarative defaults of volume sources that come in a pod and a persistent-volume
// flavour.

func defaultISCSI(iface *string) {
	if *iface == "" {
		*iface = "default"
	}
}

func defaultRBD(pool, user, keyring *string) {
	if *pool == "" {
		*pool = "rbd"
	}
	if *user == "" {
		*user = "admin"
	}
	if *keyring == "" {
		*keyring = "/etc/ceph/keyring"
	}
}

func defaultAzureDisk(caching **corev1.AzureDataDiskCachingMode, fsType **string, readOnly **bool, kind **corev1.AzureDataDiskKind) {
	setIfNil(caching, corev1.AzureDataDiskCachingReadWrite)
	setIfNil(fsType, "ext4")
	setIfNil(readOnly, false)
	setIfNil(kind, corev1.AzureSharedBlobDisk)
}

func defaultScaleIO(storageMode, fsType *string) {
	if *storageMode == "" {
		*storageMode = "ThinProvisioned"
	}
	if *fsType == "" {
		*fsType = "xfs"
	}
}

// defaultPullPolicy is Always for an image whose tag is "latest", given or implied (no tag
// and no digest), and IfNotPresent otherwise, including for references that do not parse.
func defaultPullPolicy(image string) corev1.PullPolicy {
	if tag, digest, ok := parseImageReference(image); ok && (tag == "latest" || tag == "" && digest == "") {
		return corev1.PullAlways
	}
	return corev1.PullIfNotPresent
}

// The grammar of image references (github.com/distribution/reference):
//
//	reference        := name [ ":" tag ] [ "@" digest ]
//	name             := [domain '/'] path-component ['/' path-component]*
//	domain           := host [':' port-number]
//	host             := domain-name | '[' IPv6address ']'
//	domain-name      := domain-component ['.' domain-component]*
//	domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
//	path-component   := /[a-z0-9]+/ [separator /[a-z0-9]+/]*
//	separator        := /[_.]|__|[-]+/
//	tag              := /[\w][\w.-]{0,127}/
//	digest           := algorithm ":" /[0-9a-fA-F]{32,}/
//	algorithm        := component [ /[+.-_]/ component ]*, component := /[A-Za-z][A-Za-z0-9]*/
var (
	imageReference = func() *regexp.Regexp {
		const (
			pathComponent   = `[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`
			domainComponent = `(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])`
			domain          = `(?:` + domainComponent + `(?:\.` + domainComponent + `)*` + `|\[[a-fA-F0-9:]+\])(?::[0-9]+)?`
			name            = `(?:` + domain + `/)?` + pathComponent + `(?:/` + pathComponent + `)*`
			tag             = `[\w][\w.-]{0,127}`
			digest          = `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}`
		)
		return regexp.MustCompile(`^(` + name + `)(?::(` + tag + `))?(?:@(` + digest + `))?$`)
	}()
	imageIdentifier = regexp.MustCompile(`^[a-f0-9]{64}$`)
	// The digest algorithms a kube-apiserver can verify, with their hex lengths.
	digestLengths = map[string]int{"sha256": 64, "sha384": 96, "sha512": 128}
	digestHex     = regexp.MustCompile(`^[a-f0-9]+$`)
)

// parseImageReference parses an image reference the way the kubelet's image-name parser does
// (docker's normalized names: "nginx" is docker.io/library/nginx), returning its tag and
// digest; ok is false when the reference is invalid.
func parseImageReference(image string) (tag, digest string, ok bool) {
	if imageIdentifier.MatchString(image) {
		return "", "", false // a bare image ID is not a name
	}
	// Split off the registry: the first path element, when it looks like a host.
	domain, rest := "docker.io", image
	if i := strings.IndexByte(image, '/'); i >= 0 {
		first := image[:i]
		if strings.ContainsAny(first, ".:") || first == "localhost" || strings.ToLower(first) != first {
			domain, rest = first, image[i+1:]
		}
	}
	if domain == "index.docker.io" {
		domain = "docker.io"
	}
	if domain == "docker.io" && !strings.Contains(rest, "/") {
		rest = "library/" + rest
	}
	repo := rest
	if i := strings.IndexByte(rest, ':'); i >= 0 {
		repo = rest[:i]
	}
	if strings.ToLower(repo) != repo {
		return "", "", false
	}
	m := imageReference.FindStringSubmatch(domain + "/" + rest)
	if m == nil || len(m[1]) > 255 {
		return "", "", false
	}
	tag, digest = m[2], m[3]
	if digest != "" {
		alg, hex, _ := strings.Cut(digest, ":")
		if n, known := digestLengths[alg]; !known || len(hex) != n || !digestHex.MatchString(hex) {
			return "", "", false
		}
	}
	return tag, digest, true
}

// ---- workloads of the core group ----

func defaultReplicationController(rc *corev1.ReplicationController) {
	if t := rc.Spec.Template; t != nil && t.Labels != nil {
		if len(rc.Spec.Selector) == 0 {
			rc.Spec.Selector = t.Labels
		}
		if len(rc.Labels) == 0 {
			rc.Labels = t.Labels
		}
	}
	setIfNil(&rc.Spec.Replicas, 1)
	defaultPodTemplateSpec(rc.Spec.Template)
}

// ---- services and endpoints ----

func defaultService(svc *corev1.Service) {
	spec := &svc.Spec
	if spec.SessionAffinity == "" {
		spec.SessionAffinity = corev1.ServiceAffinityNone
	}
	switch spec.SessionAffinity {
	case corev1.ServiceAffinityNone:
		spec.SessionAffinityConfig = nil
	case corev1.ServiceAffinityClientIP:
		if c := spec.SessionAffinityConfig; c == nil || c.ClientIP == nil || c.ClientIP.TimeoutSeconds == nil {
			spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{
				ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr.To(corev1.DefaultClientIPServiceAffinitySeconds)},
			}
		}
	}
	if spec.Type == "" {
		spec.Type = corev1.ServiceTypeClusterIP
	}
	for i := range spec.Ports {
		p := &spec.Ports[i]
		if p.Protocol == "" {
			p.Protocol = corev1.ProtocolTCP
		}
		if p.TargetPort == intstr.FromInt32(0) || p.TargetPort == intstr.FromString("") {
			p.TargetPort = intstr.FromInt32(p.Port)
		}
	}
	externallyAccessible := spec.Type == corev1.ServiceTypeLoadBalancer || spec.Type == corev1.ServiceTypeNodePort ||
		spec.Type == corev1.ServiceTypeClusterIP && len(spec.ExternalIPs) > 0
	if externallyAccessible && spec.ExternalTrafficPolicy == "" {
		spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
	}
	if spec.InternalTrafficPolicy == nil {
		switch spec.Type {
		case corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer:
			spec.InternalTrafficPolicy = ptr.To(corev1.ServiceInternalTrafficPolicyCluster)
		}
	}
	if spec.Type == corev1.ServiceTypeLoadBalancer {
		setIfNil(&spec.AllocateLoadBalancerNodePorts, true)
		for i := range svc.Status.LoadBalancer.Ingress {
			if ing := &svc.Status.LoadBalancer.Ingress[i]; ing.IP != "" && ing.IPMode == nil {
				ing.IPMode = ptr.To(corev1.LoadBalancerIPModeVIP)
			}
		}
	}
	defaultServiceIPFamilies(svc)
}

// defaultServiceIPFamilies does what the service registry of a single-stack IPv4 cluster does
// to the IP family fields (pkg/registry/core/service/storage: normalizeClusterIPs and
// initIPFamilyFields on create): spec.clusterIPs follows a lone spec.clusterIP;
// ipFamilyPolicy is SingleStack, except for a headless service without selector, which is
// RequireDualStack and gets both families; ipFamilies follows the cluster IPs, else IPv4.
// ExternalName services have none of these. Cluster IPs and node ports are allocated on
// create by the registry (allocateServiceAddresses), which keeps the fields set here.
func defaultServiceIPFamilies(svc *corev1.Service) {
	spec := &svc.Spec
	if spec.Type == corev1.ServiceTypeExternalName {
		return
	}
	if spec.ClusterIP != "" && len(spec.ClusterIPs) == 0 {
		spec.ClusterIPs = []string{spec.ClusterIP}
	}
	headlessSelectorless := spec.ClusterIP == corev1.ClusterIPNone && len(spec.Selector) == 0
	if spec.IPFamilyPolicy == nil {
		if headlessSelectorless {
			spec.IPFamilyPolicy = ptr.To(corev1.IPFamilyPolicyRequireDualStack)
		} else {
			spec.IPFamilyPolicy = ptr.To(corev1.IPFamilyPolicySingleStack)
		}
	}
	for i, ip := range spec.ClusterIPs {
		if ip == corev1.ClusterIPNone {
			break
		}
		if i < len(spec.IPFamilies) {
			continue
		}
		parsed := net.ParseIP(ip)
		if parsed == nil {
			break // invalid; validation's to report
		}
		if parsed.To4() != nil {
			spec.IPFamilies = append(spec.IPFamilies, corev1.IPv4Protocol)
		} else {
			spec.IPFamilies = append(spec.IPFamilies, corev1.IPv6Protocol)
		}
	}
	if len(spec.IPFamilies) == 0 {
		spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol}
	}
	// Only a headless service without selector may have both families on a single-stack
	// cluster: its endpoints are the user's.
	if headlessSelectorless && len(spec.IPFamilies) == 1 && *spec.IPFamilyPolicy != corev1.IPFamilyPolicySingleStack {
		if spec.IPFamilies[0] == corev1.IPv4Protocol {
			spec.IPFamilies = append(spec.IPFamilies, corev1.IPv6Protocol)
		} else {
			spec.IPFamilies = append(spec.IPFamilies, corev1.IPv4Protocol)
		}
	}
}

func defaultEndpoints(ep *corev1.Endpoints) {
	for i := range ep.Subsets {
		for j := range ep.Subsets[i].Ports {
			if p := &ep.Subsets[i].Ports[j]; p.Protocol == "" {
				p.Protocol = corev1.ProtocolTCP
			}
		}
	}
}

// ---- configuration ----

func defaultSecret(s *corev1.Secret) {
	if s.Type == "" {
		s.Type = corev1.SecretTypeOpaque
	}
}

func defaultConfigMap(cm *corev1.ConfigMap) {
	if cm.Data == nil {
		cm.Data = map[string]string{}
	}
}

// ---- cluster objects ----

func defaultNamespace(ns *corev1.Namespace) {
	// A generateName namespace has no name yet to label it with.
	if ns.Name != "" {
		if ns.Labels == nil {
			ns.Labels = map[string]string{}
		}
		ns.Labels[corev1.LabelMetadataName] = ns.Name
	}
	if ns.Status.Phase == "" {
		ns.Status.Phase = corev1.NamespaceActive
	}
}

func defaultNode(n *corev1.Node) {
	if n.Status.Allocatable == nil && n.Status.Capacity != nil {
		n.Status.Allocatable = n.Status.Capacity.DeepCopy()
	}
	roundResourceList(n.Status.Capacity)
	roundResourceList(n.Status.Allocatable)
}

func defaultLimitRange(lr *corev1.LimitRange) {
	for i := range lr.Spec.Limits {
		item := &lr.Spec.Limits[i]
		if item.Type == corev1.LimitTypeContainer {
			if item.Default == nil {
				item.Default = corev1.ResourceList{}
			}
			if item.DefaultRequest == nil {
				item.DefaultRequest = corev1.ResourceList{}
			}
			// The default limit falls back to the max; the default request to the default
			// limit, then to the min.
			fill := func(into, from corev1.ResourceList) {
				for name, q := range from {
					if _, ok := into[name]; !ok {
						into[name] = q.DeepCopy()
					}
				}
			}
			fill(item.Default, item.Max)
			fill(item.DefaultRequest, item.Default)
			fill(item.DefaultRequest, item.Min)
		}
		roundResourceList(item.Max)
		roundResourceList(item.Min)
		roundResourceList(item.Default)
		roundResourceList(item.DefaultRequest)
		roundResourceList(item.MaxLimitRequestRatio)
	}
}

func defaultResourceQuota(rq *corev1.ResourceQuota) {
	roundResourceList(rq.Spec.Hard)
	roundResourceList(rq.Status.Hard)
	roundResourceList(rq.Status.Used)
}

// ---- storage ----

func defaultPersistentVolume(pv *corev1.PersistentVolume) {
	if pv.Status.Phase == "" {
		pv.Status.Phase = corev1.VolumePending
	}
	if pv.Spec.PersistentVolumeReclaimPolicy == "" {
		pv.Spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimRetain
	}
	setIfNil(&pv.Spec.VolumeMode, corev1.PersistentVolumeFilesystem)
	roundResourceList(pv.Spec.Capacity)
	defaultPersistentVolumeSource(&pv.Spec.PersistentVolumeSource)
}

func defaultPersistentVolumeSource(src *corev1.PersistentVolumeSource) {
	if src.HostPath != nil {
		setIfNil(&src.HostPath.Type, corev1.HostPathUnset)
	}
	if src.RBD != nil {
		defaultRBD(&src.RBD.RBDPool, &src.RBD.RadosUser, &src.RBD.Keyring)
	}
	if src.ISCSI != nil {
		defaultISCSI(&src.ISCSI.ISCSIInterface)
	}
	if d := src.AzureDisk; d != nil {
		defaultAzureDisk(&d.CachingMode, &d.FSType, &d.ReadOnly, &d.Kind)
	}
	if s := src.ScaleIO; s != nil {
		defaultScaleIO(&s.StorageMode, &s.FSType)
	}
}

func defaultPersistentVolumeClaim(pvc *corev1.PersistentVolumeClaim) {
	if pvc.Status.Phase == "" {
		pvc.Status.Phase = corev1.ClaimPending
	}
	defaultPersistentVolumeClaimSpec(&pvc.Spec)
	roundResourceList(pvc.Status.Capacity)
	roundResourceList(pvc.Status.AllocatedResources)
}

func defaultPersistentVolumeClaimSpec(spec *corev1.PersistentVolumeClaimSpec) {
	setIfNil(&spec.VolumeMode, corev1.PersistentVolumeFilesystem)
	roundResourceList(spec.Resources.Limits)
	roundResourceList(spec.Resources.Requests)
}

// ---- quality of service ----

// podQOSClass is the QoS class the pod registry records in status.qosClass on create
// (pkg/apis/core/v1/helper/qos.ComputePodQOS of 1.36, with PodLevelResources on): BestEffort
// when neither requests nor limits are set for CPU or memory, Guaranteed when CPU and memory
// limits are set everywhere (every container, or the pod level) and equal the requests, and
// Burstable otherwise. Pod-level resources, when present, decide alone; ephemeral containers
// never count.
func podQOSClass(pod *corev1.Pod) corev1.PodQOSClass {
	requests, limits := corev1.ResourceList{}, corev1.ResourceList{}
	guaranteed := true
	if res := pod.Spec.Resources; res != nil {
		addQOSResources(requests, res.Requests)
		if len(res.Limits) > 0 && !addQOSResources(limits, res.Limits) {
			guaranteed = false
		}
	} else {
		containers := make([]corev1.Container, 0, len(pod.Spec.Containers)+len(pod.Spec.InitContainers))
		containers = append(containers, pod.Spec.Containers...)
		containers = append(containers, pod.Spec.InitContainers...)
		for i := range containers {
			addQOSResources(requests, containers[i].Resources.Requests)
			if !addQOSResources(limits, containers[i].Resources.Limits) {
				guaranteed = false
			}
		}
	}
	if len(requests) == 0 && len(limits) == 0 {
		return corev1.PodQOSBestEffort
	}
	if guaranteed {
		for name, req := range requests {
			if lim, ok := limits[name]; !ok || lim.Cmp(req) != 0 {
				guaranteed = false
				break
			}
		}
	}
	if guaranteed && len(requests) == len(limits) {
		return corev1.PodQOSGuaranteed
	}
	return corev1.PodQOSBurstable
}

// addQOSResources adds the positive CPU and memory quantities of l to sum, and reports
// whether l had both.
func addQOSResources(sum, l corev1.ResourceList) (cpuAndMemory bool) {
	var cpu, memory bool
	for name, q := range l {
		if name != corev1.ResourceCPU && name != corev1.ResourceMemory || q.Sign() != 1 {
			continue
		}
		if name == corev1.ResourceCPU {
			cpu = true
		} else {
			memory = true
		}
		addResources(sum, corev1.ResourceList{name: q})
	}
	return cpu && memory
}
