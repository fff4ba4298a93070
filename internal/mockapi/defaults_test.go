package mockapi

import (
	"context"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/rancher/scale-cluster-agent/internal/apidocs"
)

var defaultsScheme struct {
	once sync.Once
	as   *apiScheme
	err  error
}

// defaultingScheme is the scheme a 1.36 server decodes requests with.
func defaultingScheme(t *testing.T) *apiScheme {
	t.Helper()
	defaultsScheme.once.Do(func() {
		docs, err := apidocs.Load("1.36")
		if err != nil {
			defaultsScheme.err = err
			return
		}
		defaultsScheme.as, defaultsScheme.err = newAPIScheme(docs)
	})
	if defaultsScheme.err != nil {
		t.Fatal(defaultsScheme.err)
	}
	return defaultsScheme.as
}

// decodeRequest decodes a request body as the apiserver does: into the internal (hub)
// version, defaulting the versioned object on the way; with a version given, into that one.
func decodeRequest(t *testing.T, as *apiScheme, body string, gv ...schema.GroupVersion) runtime.Object {
	t.Helper()
	decoder := as.Codecs.UniversalDecoder(gv...)
	obj, _, err := decoder.Decode([]byte(body), nil, nil)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return obj
}

// wantObject unmarshals want (without defaulting) into a new object of got's type.
func wantObject(t *testing.T, got runtime.Object, want string) runtime.Object {
	t.Helper()
	obj := reflect.New(reflect.TypeOf(got).Elem()).Interface().(runtime.Object)
	if err := json.Unmarshal([]byte(want), obj); err != nil {
		t.Fatalf("want: %v", err)
	}
	return obj
}

func toJSON(obj interface{}) string {
	b, _ := json.MarshalIndent(obj, "", "  ")
	return string(b)
}

// assertSame compares the objects, TypeMeta aside (the internal version has none).
func assertSame(t *testing.T, got, want runtime.Object) {
	t.Helper()
	got, want = got.DeepCopyObject(), want.DeepCopyObject()
	got.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{})
	want.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{})
	if !apiequality.Semantic.DeepEqual(got, want) || toJSON(got) != toJSON(want) {
		t.Errorf("got:\n%s\nwant:\n%s", toJSON(got), toJSON(want))
	}
}

// Minimal request bodies and what a 1.36 kube-apiserver makes of them (the expectations of
// k8s.io/kubernetes/pkg/apis/*/v1*/defaults_test.go, and kubectl's output against real
// clusters).
var defaultingCases = []struct {
	name     string
	in, want string
	version  *schema.GroupVersion // decode into this version instead of the hub
}{
	// ---- core/v1 ----
	{
		name: "kubectl create secret generic",
		in:   `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"data":{"k":"dg=="}}`,
		want: `{"metadata":{"name":"s"},"data":{"k":"dg=="},"type":"Opaque"}`,
	},
	{
		name: "secret keeps its type",
		in:   `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"type":"kubernetes.io/tls"}`,
		want: `{"metadata":{"name":"s"},"type":"kubernetes.io/tls"}`,
	},
	{
		name: "kubectl run",
		in: `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"nginx","labels":{"run":"nginx"}},
			"spec":{"containers":[{"name":"nginx","image":"nginx","resources":{}}],"restartPolicy":"Always","dnsPolicy":"ClusterFirst"},"status":{}}`,
		want: `{"metadata":{"name":"nginx","labels":{"run":"nginx"}},"spec":{
			"containers":[{"name":"nginx","image":"nginx","resources":{},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"Always"}],
			"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","securityContext":{},"schedulerName":"default-scheduler","enableServiceLinks":true},"status":{}}`,
	},
	{
		name: "pod: containers, probes, env, volumes",
		in: `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{
			"initContainers":[{"name":"init","image":"busybox:1.36","resources":{"limits":{"cpu":"100m","memory":"64Mi"},"requests":{"cpu":"50m"}}}],
			"containers":[{"name":"app","image":"registry.example.com:5000/team/app:latest","ports":[{"containerPort":8080},{"containerPort":53,"protocol":"UDP"}],
				"env":[{"name":"NODE","valueFrom":{"fieldRef":{"fieldPath":"spec.nodeName"}}}],
				"resources":{"limits":{"cpu":"0.0001","memory":"128Mi"}},
				"livenessProbe":{"httpGet":{"port":8080}},
				"readinessProbe":{"grpc":{"port":9090},"periodSeconds":5},
				"startupProbe":{"tcpSocket":{"port":8080},"failureThreshold":30},
				"lifecycle":{"preStop":{"httpGet":{"port":8080,"path":"/quit"}},"postStart":{"exec":{"command":["true"]}}}},
				{"name":"pinned","image":"nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","imagePullPolicy":"Never"}],
			"volumes":[{"name":"scratch"},
				{"name":"sec","secret":{"secretName":"s"}},
				{"name":"cm","configMap":{"name":"c","defaultMode":256}},
				{"name":"host","hostPath":{"path":"/var/log"}},
				{"name":"down","downwardAPI":{"items":[{"path":"labels","fieldRef":{"fieldPath":"metadata.labels"}}]}},
				{"name":"proj","projected":{"sources":[{"serviceAccountToken":{"path":"token"}},{"configMap":{"name":"ca"}}]}},
				{"name":"eph","ephemeral":{"volumeClaimTemplate":{"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}}}}]}}`,
		want: `{"metadata":{"name":"p"},"spec":{
			"initContainers":[{"name":"init","image":"busybox:1.36","resources":{"limits":{"cpu":"100m","memory":"64Mi"},"requests":{"cpu":"50m","memory":"64Mi"}},
				"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],
			"containers":[{"name":"app","image":"registry.example.com:5000/team/app:latest","ports":[{"containerPort":8080,"protocol":"TCP"},{"containerPort":53,"protocol":"UDP"}],
				"env":[{"name":"NODE","valueFrom":{"fieldRef":{"apiVersion":"v1","fieldPath":"spec.nodeName"}}}],
				"resources":{"limits":{"cpu":"1m","memory":"128Mi"},"requests":{"cpu":"1m","memory":"128Mi"}},
				"livenessProbe":{"httpGet":{"port":8080,"path":"/","scheme":"HTTP"},"timeoutSeconds":1,"periodSeconds":10,"successThreshold":1,"failureThreshold":3},
				"readinessProbe":{"grpc":{"port":9090,"service":""},"timeoutSeconds":1,"periodSeconds":5,"successThreshold":1,"failureThreshold":3},
				"startupProbe":{"tcpSocket":{"port":8080},"timeoutSeconds":1,"periodSeconds":10,"successThreshold":1,"failureThreshold":30},
				"lifecycle":{"preStop":{"httpGet":{"port":8080,"path":"/quit","scheme":"HTTP"}},"postStart":{"exec":{"command":["true"]}}},
				"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"Always"},
				{"name":"pinned","image":"nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","imagePullPolicy":"Never","resources":{},
				"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File"}],
			"volumes":[{"name":"scratch","emptyDir":{}},
				{"name":"sec","secret":{"secretName":"s","defaultMode":420}},
				{"name":"cm","configMap":{"name":"c","defaultMode":256}},
				{"name":"host","hostPath":{"path":"/var/log","type":""}},
				{"name":"down","downwardAPI":{"items":[{"path":"labels","fieldRef":{"apiVersion":"v1","fieldPath":"metadata.labels"}}],"defaultMode":420}},
				{"name":"proj","projected":{"sources":[{"serviceAccountToken":{"path":"token","expirationSeconds":3600}},{"configMap":{"name":"ca"}}],"defaultMode":420}},
				{"name":"eph","ephemeral":{"volumeClaimTemplate":{"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}},"volumeMode":"Filesystem"}}}}],
			"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","securityContext":{},"schedulerName":"default-scheduler","enableServiceLinks":true},"status":{}}`,
	},
	{
		name: "pod on the host network",
		in: `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"hostNetwork":true,"enableServiceLinks":false,"restartPolicy":"Never",
			"containers":[{"name":"c","image":"c:1","imagePullPolicy":"Always","ports":[{"containerPort":9100},{"containerPort":9101,"hostPort":19101}]}]}}`,
		want: `{"metadata":{"name":"p"},"spec":{"hostNetwork":true,"enableServiceLinks":false,"restartPolicy":"Never",
			"containers":[{"name":"c","image":"c:1","imagePullPolicy":"Always","ports":[{"containerPort":9100,"hostPort":9100,"protocol":"TCP"},{"containerPort":9101,"hostPort":19101,"protocol":"TCP"}],
				"resources":{},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File"}],
			"terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","securityContext":{},"schedulerName":"default-scheduler"},"status":{}}`,
	},
	{
		// pod requests=unset limits=set, container requests=set limits=unset
		name: "pod-level requests from the containers",
		in: `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"resources":{"limits":{"cpu":"4m","memory":"8Mi"}},
			"containers":[{"name":"a","image":"a:1","resources":{"requests":{"cpu":"1m","memory":"1Mi"}}},{"name":"b","image":"b:1","resources":{"requests":{"cpu":"1m","memory":"2Mi"}}}]}}`,
		want: `{"metadata":{"name":"p"},"spec":{"resources":{"limits":{"cpu":"4m","memory":"8Mi"},"requests":{"cpu":"2m","memory":"3Mi"}},
			"containers":[{"name":"a","image":"a:1","resources":{"requests":{"cpu":"1m","memory":"1Mi"}},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"},
				{"name":"b","image":"b:1","resources":{"requests":{"cpu":"1m","memory":"2Mi"}},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],
			"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","securityContext":{},"schedulerName":"default-scheduler","enableServiceLinks":true},"status":{}}`,
	},
	{
		// pod has cpu limit with hugepages requests=unset limits=unset, container hugepages requests=unset limits=set
		name: "pod-level hugepage limits and requests",
		in: `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"resources":{"limits":{"cpu":"5m"}},
			"containers":[{"name":"a","image":"a:1","resources":{"limits":{"cpu":"2m","hugepages-2Mi":"4Mi"}}},{"name":"b","image":"b:1","resources":{"limits":{"cpu":"1m","hugepages-2Mi":"2Mi"}}}]}}`,
		want: `{"metadata":{"name":"p"},"spec":{"resources":{"limits":{"cpu":"5m","hugepages-2Mi":"6Mi"},"requests":{"cpu":"3m","hugepages-2Mi":"6Mi"}},
			"containers":[{"name":"a","image":"a:1","resources":{"limits":{"cpu":"2m","hugepages-2Mi":"4Mi"},"requests":{"cpu":"2m","hugepages-2Mi":"4Mi"}},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"},
				{"name":"b","image":"b:1","resources":{"limits":{"cpu":"1m","hugepages-2Mi":"2Mi"},"requests":{"cpu":"1m","hugepages-2Mi":"2Mi"}},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],
			"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","securityContext":{},"schedulerName":"default-scheduler","enableServiceLinks":true},"status":{}}`,
	},
	{
		name: "pod template: no pod-only defaults",
		in: `{"apiVersion":"v1","kind":"PodTemplate","metadata":{"name":"t"},"template":{"spec":{"hostNetwork":true,
			"containers":[{"name":"c","image":"c","ports":[{"containerPort":80}],"resources":{"limits":{"cpu":"1"}}}]}}}`,
		want: `{"metadata":{"name":"t"},"template":{"metadata":{},"spec":{"hostNetwork":true,
			"containers":[{"name":"c","image":"c","ports":[{"containerPort":80,"protocol":"TCP"}],"resources":{"limits":{"cpu":"1"}},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"Always"}],
			"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","securityContext":{},"schedulerName":"default-scheduler"}}}`,
	},
	{
		name: "replication controller",
		in: `{"apiVersion":"v1","kind":"ReplicationController","metadata":{"name":"rc"},"spec":{"template":{"metadata":{"labels":{"app":"a"}},
			"spec":{"containers":[{"name":"c","image":"c:2"}]}}}}`,
		want: `{"metadata":{"name":"rc","labels":{"app":"a"}},"spec":{"replicas":1,"selector":{"app":"a"},"template":{"metadata":{"labels":{"app":"a"}},
			"spec":{"containers":[{"name":"c","image":"c:2","resources":{},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],
			"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","securityContext":{},"schedulerName":"default-scheduler"}}},"status":{"replicas":0}}`,
	},
	{
		name: "kubectl create service clusterip",
		in: `{"apiVersion":"v1","kind":"Service","metadata":{"name":"my","labels":{"app":"my"}},"spec":{"ports":[{"name":"80-8080","protocol":"TCP","port":80,"targetPort":8080}],
			"selector":{"app":"my"},"type":"ClusterIP"},"status":{"loadBalancer":{}}}`,
		want: `{"metadata":{"name":"my","labels":{"app":"my"}},"spec":{"ports":[{"name":"80-8080","protocol":"TCP","port":80,"targetPort":8080}],
			"selector":{"app":"my"},"type":"ClusterIP","sessionAffinity":"None","ipFamilies":["IPv4"],"ipFamilyPolicy":"SingleStack","internalTrafficPolicy":"Cluster"},"status":{"loadBalancer":{}}}`,
	},
	{
		name: "service ports: protocol and target port",
		in:   `{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"clusterIP":"10.43.0.10","ports":[{"name":"dns","port":53,"protocol":"UDP"},{"name":"web","port":80,"targetPort":"http"},{"name":"x","port":81,"targetPort":0}]}}`,
		want: `{"metadata":{"name":"s"},"spec":{"clusterIP":"10.43.0.10","clusterIPs":["10.43.0.10"],"ports":[{"name":"dns","port":53,"protocol":"UDP","targetPort":53},{"name":"web","port":80,"protocol":"TCP","targetPort":"http"},{"name":"x","port":81,"protocol":"TCP","targetPort":81}],
			"type":"ClusterIP","sessionAffinity":"None","ipFamilies":["IPv4"],"ipFamilyPolicy":"SingleStack","internalTrafficPolicy":"Cluster"},"status":{"loadBalancer":{}}}`,
	},
	{
		name: "nodeport service with client-IP affinity",
		in:   `{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"type":"NodePort","sessionAffinity":"ClientIP","ports":[{"port":80}]}}`,
		want: `{"metadata":{"name":"s"},"spec":{"type":"NodePort","sessionAffinity":"ClientIP","sessionAffinityConfig":{"clientIP":{"timeoutSeconds":10800}},"ports":[{"port":80,"protocol":"TCP","targetPort":80}],
			"externalTrafficPolicy":"Cluster","ipFamilies":["IPv4"],"ipFamilyPolicy":"SingleStack","internalTrafficPolicy":"Cluster"},"status":{"loadBalancer":{}}}`,
	},
	{
		name: "load balancer service",
		in: `{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"type":"LoadBalancer","sessionAffinityConfig":{"clientIP":{"timeoutSeconds":60}},"ports":[{"port":443}]},
			"status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.1"},{"hostname":"lb.example.com"}]}}}`,
		want: `{"metadata":{"name":"s"},"spec":{"type":"LoadBalancer","sessionAffinity":"None","ports":[{"port":443,"protocol":"TCP","targetPort":443}],
			"externalTrafficPolicy":"Cluster","allocateLoadBalancerNodePorts":true,"ipFamilies":["IPv4"],"ipFamilyPolicy":"SingleStack","internalTrafficPolicy":"Cluster"},
			"status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.1","ipMode":"VIP"},{"hostname":"lb.example.com"}]}}}`,
	},
	{
		name: "cluster-IP service with external IPs",
		in:   `{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"externalIPs":["198.51.100.7"],"ports":[{"port":80}]}}`,
		want: `{"metadata":{"name":"s"},"spec":{"externalIPs":["198.51.100.7"],"type":"ClusterIP","sessionAffinity":"None","ports":[{"port":80,"protocol":"TCP","targetPort":80}],
			"externalTrafficPolicy":"Cluster","ipFamilies":["IPv4"],"ipFamilyPolicy":"SingleStack","internalTrafficPolicy":"Cluster"},"status":{"loadBalancer":{}}}`,
	},
	{
		name: "external name service",
		in:   `{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"type":"ExternalName","externalName":"example.com"}}`,
		want: `{"metadata":{"name":"s"},"spec":{"type":"ExternalName","externalName":"example.com","sessionAffinity":"None"},"status":{"loadBalancer":{}}}`,
	},
	{
		name: "headless service",
		in:   `{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"clusterIP":"None","selector":{"app":"db"},"ports":[{"port":5432}]}}`,
		want: `{"metadata":{"name":"s"},"spec":{"clusterIP":"None","clusterIPs":["None"],"selector":{"app":"db"},"ports":[{"port":5432,"protocol":"TCP","targetPort":5432}],
			"type":"ClusterIP","sessionAffinity":"None","ipFamilies":["IPv4"],"ipFamilyPolicy":"SingleStack","internalTrafficPolicy":"Cluster"},"status":{"loadBalancer":{}}}`,
	},
	{
		name: "headless service without selector",
		in:   `{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"clusterIP":"None","ports":[{"port":5432}]}}`,
		want: `{"metadata":{"name":"s"},"spec":{"clusterIP":"None","clusterIPs":["None"],"ports":[{"port":5432,"protocol":"TCP","targetPort":5432}],
			"type":"ClusterIP","sessionAffinity":"None","ipFamilies":["IPv4","IPv6"],"ipFamilyPolicy":"RequireDualStack","internalTrafficPolicy":"Cluster"},"status":{"loadBalancer":{}}}`,
	},
	{
		name: "service families from its cluster IPs",
		in:   `{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"clusterIPs":["fd00::10"],"clusterIP":"fd00::10","ipFamilyPolicy":"PreferDualStack","ports":[{"port":80}]}}`,
		want: `{"metadata":{"name":"s"},"spec":{"clusterIP":"fd00::10","clusterIPs":["fd00::10"],"ports":[{"port":80,"protocol":"TCP","targetPort":80}],
			"type":"ClusterIP","sessionAffinity":"None","ipFamilies":["IPv6"],"ipFamilyPolicy":"PreferDualStack","internalTrafficPolicy":"Cluster"},"status":{"loadBalancer":{}}}`,
	},
	{
		name: "endpoints",
		in:   `{"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"e"},"subsets":[{"addresses":[{"ip":"10.0.0.1"}],"ports":[{"port":80},{"port":53,"protocol":"UDP"}]}]}`,
		want: `{"metadata":{"name":"e"},"subsets":[{"addresses":[{"ip":"10.0.0.1"}],"ports":[{"port":80,"protocol":"TCP"},{"port":53,"protocol":"UDP"}]}]}`,
	},
	{
		name: "namespace",
		in:   `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team-a"}}`,
		want: `{"metadata":{"name":"team-a","labels":{"kubernetes.io/metadata.name":"team-a"}},"spec":{},"status":{"phase":"Active"}}`,
	},
	{
		name: "node",
		in:   `{"apiVersion":"v1","kind":"Node","metadata":{"name":"n"},"status":{"capacity":{"cpu":"4","memory":"8Gi","pods":"110"}}}`,
		want: `{"metadata":{"name":"n"},"spec":{},"status":{"capacity":{"cpu":"4","memory":"8Gi","pods":"110"},"allocatable":{"cpu":"4","memory":"8Gi","pods":"110"},"daemonEndpoints":{"kubeletEndpoint":{"Port":0}},"nodeInfo":{"machineID":"","systemUUID":"","bootID":"","kernelVersion":"","osImage":"","containerRuntimeVersion":"","kubeletVersion":"","kubeProxyVersion":"","operatingSystem":"","architecture":""}}}`,
	},
	{
		name: "persistent volume",
		in:   `{"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":"pv"},"spec":{"capacity":{"storage":"10Gi"},"accessModes":["ReadWriteOnce"],"hostPath":{"path":"/data"}}}`,
		want: `{"metadata":{"name":"pv"},"spec":{"capacity":{"storage":"10Gi"},"accessModes":["ReadWriteOnce"],"hostPath":{"path":"/data","type":""},"persistentVolumeReclaimPolicy":"Retain","volumeMode":"Filesystem"},"status":{"phase":"Pending"}}`,
	},
	{
		name: "persistent volume claim",
		in:   `{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"c"},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}}`,
		want: `{"metadata":{"name":"c"},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}},"volumeMode":"Filesystem"},"status":{"phase":"Pending"}}`,
	},
	{
		name: "limit range",
		in: `{"apiVersion":"v1","kind":"LimitRange","metadata":{"name":"l"},"spec":{"limits":[
			{"type":"Container","max":{"cpu":"2","memory":"1Gi"},"min":{"cpu":"100m","ephemeral-storage":"1Gi"},"default":{"memory":"512Mi"}},
			{"type":"Pod","max":{"cpu":"4"}}]}}`,
		want: `{"metadata":{"name":"l"},"spec":{"limits":[
			{"type":"Container","max":{"cpu":"2","memory":"1Gi"},"min":{"cpu":"100m","ephemeral-storage":"1Gi"},"default":{"cpu":"2","memory":"512Mi"},"defaultRequest":{"cpu":"2","memory":"512Mi","ephemeral-storage":"1Gi"}},
			{"type":"Pod","max":{"cpu":"4"}}]}}`,
	},
	{
		name: "config map without data",
		in:   `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}`,
		want: `{"metadata":{"name":"c"},"data":{}}`,
	},
	{
		name: "service account",
		in:   `{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"sa"}}`,
		want: `{"metadata":{"name":"sa"}}`,
	},

	// ---- apps/v1 ----
	{
		name: "kubectl create deployment",
		in: `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"nginx","labels":{"app":"nginx"}},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"nginx"}},"strategy":{},
			"template":{"metadata":{"labels":{"app":"nginx"}},"spec":{"containers":[{"name":"nginx","image":"nginx","resources":{}}]}}},"status":{}}`,
		want: `{"metadata":{"name":"nginx","labels":{"app":"nginx"}},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"nginx"}},
			"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"25%","maxSurge":"25%"}},"revisionHistoryLimit":10,"progressDeadlineSeconds":600,
			"template":{"metadata":{"labels":{"app":"nginx"}},"spec":{
				"containers":[{"name":"nginx","image":"nginx","resources":{},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"Always"}],
				"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","securityContext":{},"schedulerName":"default-scheduler"}}},"status":{}}`,
	},
	{
		name: "deployment: recreate, no replicas",
		in: `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"strategy":{"type":"Recreate"},"revisionHistoryLimit":2,
			"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"c:1","resources":{"limits":{"cpu":"1"}}}]}}}}`,
		want: `{"metadata":{"name":"d"},"spec":{"replicas":1,"strategy":{"type":"Recreate"},"revisionHistoryLimit":2,"progressDeadlineSeconds":600,
			"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{
				"containers":[{"name":"c","image":"c:1","resources":{"limits":{"cpu":"1"}},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],
				"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","securityContext":{},"schedulerName":"default-scheduler"}}},"status":{}}`,
	},
	{
		name: "daemon set",
		in: `{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"ds"},"spec":{"selector":{"matchLabels":{"a":"b"}},
			"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"c:1"}]}}}}`,
		want: `{"metadata":{"name":"ds"},"spec":{"selector":{"matchLabels":{"a":"b"}},"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":1,"maxSurge":0}},"revisionHistoryLimit":10,
			"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"c:1","resources":{},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],
				"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","securityContext":{},"schedulerName":"default-scheduler"}}},
			"status":{"currentNumberScheduled":0,"numberMisscheduled":0,"desiredNumberScheduled":0,"numberReady":0}}`,
	},
	{
		name: "daemon set on delete",
		in: `{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"ds"},"spec":{"updateStrategy":{"type":"OnDelete"},"selector":{"matchLabels":{"a":"b"}},
			"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"c:1"}]}}}}`,
		want: `{"metadata":{"name":"ds"},"spec":{"selector":{"matchLabels":{"a":"b"}},"updateStrategy":{"type":"OnDelete"},"revisionHistoryLimit":10,
			"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"c:1","resources":{},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],
				"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","securityContext":{},"schedulerName":"default-scheduler"}}},
			"status":{"currentNumberScheduled":0,"numberMisscheduled":0,"desiredNumberScheduled":0,"numberReady":0}}`,
	},
	{
		name: "stateful set with claim templates",
		in: `{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"db"},"spec":{"serviceName":"db","selector":{"matchLabels":{"a":"b"}},
			"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"c:1"}]}},
			"volumeClaimTemplates":[{"metadata":{"name":"data"},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}}]}}`,
		want: `{"metadata":{"name":"db"},"spec":{"replicas":1,"serviceName":"db","selector":{"matchLabels":{"a":"b"}},"podManagementPolicy":"OrderedReady",
			"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":0}},"revisionHistoryLimit":10,
			"persistentVolumeClaimRetentionPolicy":{"whenDeleted":"Retain","whenScaled":"Retain"},
			"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"c:1","resources":{},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],
				"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","securityContext":{},"schedulerName":"default-scheduler"}},
			"volumeClaimTemplates":[{"metadata":{"name":"data"},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}},"volumeMode":"Filesystem"},"status":{"phase":"Pending"}}]},
			"status":{"replicas":0,"availableReplicas":0}}`,
	},
	{
		name: "stateful set: explicit strategies",
		in: `{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"db"},"spec":{"replicas":3,"updateStrategy":{"type":"RollingUpdate"},"podManagementPolicy":"Parallel",
			"persistentVolumeClaimRetentionPolicy":{"whenDeleted":"Delete"},
			"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"c:1"}]}}}}`,
		want: `{"metadata":{"name":"db"},"spec":{"replicas":3,"selector":{"matchLabels":{"a":"b"}},"podManagementPolicy":"Parallel",
			"updateStrategy":{"type":"RollingUpdate"},"revisionHistoryLimit":10,"serviceName":"",
			"persistentVolumeClaimRetentionPolicy":{"whenDeleted":"Delete","whenScaled":"Retain"},
			"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"c:1","resources":{},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],
				"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","securityContext":{},"schedulerName":"default-scheduler"}}},
			"status":{"replicas":0,"availableReplicas":0}}`,
	},
	{
		name: "replica set",
		in: `{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"rs"},"spec":{"selector":{"matchLabels":{"a":"b"}},
			"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"c:1","resources":{"limits":{"memory":"1Gi"}}}]}}}}`,
		want: `{"metadata":{"name":"rs"},"spec":{"replicas":1,"selector":{"matchLabels":{"a":"b"}},
			"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"c:1","resources":{"limits":{"memory":"1Gi"}},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],
				"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","securityContext":{},"schedulerName":"default-scheduler"}}},
			"status":{"replicas":0}}`,
	},

	// ---- batch/v1 ----
	{
		name: "kubectl create job",
		in: `{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"pi"},"spec":{"template":{"metadata":{},
			"spec":{"containers":[{"name":"pi","image":"perl:5.34.0","command":["perl"],"resources":{}}],"restartPolicy":"Never"}}},"status":{}}`,
		want: `{"metadata":{"name":"pi"},"spec":{"parallelism":1,"completions":1,"backoffLimit":6,"completionMode":"NonIndexed","suspend":false,"podReplacementPolicy":"TerminatingOrFailed","manualSelector":false,
			"template":{"metadata":{},"spec":{"containers":[{"name":"pi","image":"perl:5.34.0","command":["perl"],"resources":{},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],
				"restartPolicy":"Never","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","securityContext":{},"schedulerName":"default-scheduler"}}},"status":{}}`,
	},
	{
		name: "job: parallel, per-index backoff, failure policy, labels from the template",
		in: `{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"j"},"spec":{"parallelism":3,"completionMode":"Indexed","backoffLimitPerIndex":1,
			"podFailurePolicy":{"rules":[{"action":"Ignore","onPodConditions":[{"type":"DisruptionTarget"}]}]},
			"template":{"metadata":{"labels":{"app":"j"}},"spec":{"containers":[{"name":"c","image":"c:1"}],"restartPolicy":"Never"}}}}`,
		want: `{"metadata":{"name":"j","labels":{"app":"j"}},"spec":{"parallelism":3,"backoffLimit":2147483647,"backoffLimitPerIndex":1,"completionMode":"Indexed","suspend":false,"podReplacementPolicy":"Failed","manualSelector":false,
			"podFailurePolicy":{"rules":[{"action":"Ignore","onPodConditions":[{"type":"DisruptionTarget","status":"True"}]}]},
			"template":{"metadata":{"labels":{"app":"j"}},"spec":{"containers":[{"name":"c","image":"c:1","resources":{},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],
				"restartPolicy":"Never","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","securityContext":{},"schedulerName":"default-scheduler"}}},"status":{}}`,
	},
	{
		name: "cron job: the job template keeps its spec",
		in: `{"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"cj"},"spec":{"schedule":"*/5 * * * *",
			"jobTemplate":{"metadata":{"name":"cj"},"spec":{"template":{"spec":{"containers":[{"name":"c","image":"busybox"}],"restartPolicy":"OnFailure"}}}}}}`,
		want: `{"metadata":{"name":"cj"},"spec":{"schedule":"*/5 * * * *","concurrencyPolicy":"Allow","suspend":false,"successfulJobsHistoryLimit":3,"failedJobsHistoryLimit":1,
			"jobTemplate":{"metadata":{"name":"cj"},"spec":{"template":{"metadata":{},"spec":{"containers":[{"name":"c","image":"busybox","resources":{},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"Always"}],
				"restartPolicy":"OnFailure","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","securityContext":{},"schedulerName":"default-scheduler"}}}}},"status":{}}`,
	},

	// ---- autoscaling ----
	{
		name: "hpa v2 without metrics",
		in:   `{"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","metadata":{"name":"h"},"spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"d"},"maxReplicas":5}}`,
		want: `{"metadata":{"name":"h"},"spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"d"},"minReplicas":1,"maxReplicas":5,
			"metrics":[{"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":80}}}]},"status":{"desiredReplicas":0}}`,
	},
	{
		name: "hpa v2 behavior",
		in: `{"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","metadata":{"name":"h"},"spec":{"scaleTargetRef":{"kind":"Deployment","name":"d"},"minReplicas":2,"maxReplicas":5,
			"metrics":[{"type":"Resource","resource":{"name":"memory","target":{"type":"AverageValue","averageValue":"1Gi"}}}],
			"behavior":{"scaleDown":{"stabilizationWindowSeconds":60}}}}`,
		want: `{"metadata":{"name":"h"},"spec":{"scaleTargetRef":{"kind":"Deployment","name":"d"},"minReplicas":2,"maxReplicas":5,
			"metrics":[{"type":"Resource","resource":{"name":"memory","target":{"type":"AverageValue","averageValue":"1Gi"}}}],
			"behavior":{"scaleUp":{"stabilizationWindowSeconds":0,"selectPolicy":"Max","policies":[{"type":"Pods","value":4,"periodSeconds":15},{"type":"Percent","value":100,"periodSeconds":15}]},
				"scaleDown":{"stabilizationWindowSeconds":60,"selectPolicy":"Max","policies":[{"type":"Percent","value":100,"periodSeconds":15}]}}},"status":{"desiredReplicas":0}}`,
	},
	{
		name:    "hpa v1 without a target",
		in:      `{"apiVersion":"autoscaling/v1","kind":"HorizontalPodAutoscaler","metadata":{"name":"h"},"spec":{"scaleTargetRef":{"kind":"Deployment","name":"d"},"maxReplicas":5}}`,
		want:    `{"metadata":{"name":"h"},"spec":{"scaleTargetRef":{"kind":"Deployment","name":"d"},"minReplicas":1,"maxReplicas":5,"targetCPUUtilizationPercentage":80},"status":{"currentReplicas":0,"desiredReplicas":0}}`,
		version: &autoscalingv1.SchemeGroupVersion,
	},
	{
		name: "hpa v1 without a target, stored as v2",
		in:   `{"apiVersion":"autoscaling/v1","kind":"HorizontalPodAutoscaler","metadata":{"name":"h"},"spec":{"scaleTargetRef":{"kind":"Deployment","name":"d"},"maxReplicas":5}}`,
		want: `{"metadata":{"name":"h"},"spec":{"scaleTargetRef":{"kind":"Deployment","name":"d"},"minReplicas":1,"maxReplicas":5,
			"metrics":[{"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":80}}}]},"status":{"desiredReplicas":0}}`,
	},

	// ---- networking.k8s.io/v1 ----
	{
		name: "network policy",
		in: `{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"np"},"spec":{"podSelector":{},
			"ingress":[{"ports":[{"port":80},{"port":53,"protocol":"UDP"}]}],"egress":[{"ports":[{"port":443}]}]}}`,
		want: `{"metadata":{"name":"np"},"spec":{"podSelector":{},
			"ingress":[{"ports":[{"port":80,"protocol":"TCP"},{"port":53,"protocol":"UDP"}]}],"egress":[{"ports":[{"port":443,"protocol":"TCP"}]}],"policyTypes":["Ingress","Egress"]}}`,
	},
	{
		name: "network policy without egress rules",
		in:   `{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"np"},"spec":{"podSelector":{}}}`,
		want: `{"metadata":{"name":"np"},"spec":{"podSelector":{},"policyTypes":["Ingress"]}}`,
	},
	{
		name: "ingress class parameters",
		in:   `{"apiVersion":"networking.k8s.io/v1","kind":"IngressClass","metadata":{"name":"nginx"},"spec":{"controller":"k8s.io/ingress-nginx","parameters":{"kind":"Params","name":"p"}}}`,
		want: `{"metadata":{"name":"nginx"},"spec":{"controller":"k8s.io/ingress-nginx","parameters":{"kind":"Params","name":"p","scope":"Cluster"}}}`,
	},
	{
		name: "ingress",
		in:   `{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"i"},"spec":{"rules":[{"host":"a.example.com","http":{"paths":[{"path":"/","pathType":"Prefix","backend":{"service":{"name":"s","port":{"number":80}}}}]}}]}}`,
		want: `{"metadata":{"name":"i"},"spec":{"rules":[{"host":"a.example.com","http":{"paths":[{"path":"/","pathType":"Prefix","backend":{"service":{"name":"s","port":{"number":80}}}}]}}]},"status":{"loadBalancer":{}}}`,
	},

	// ---- rbac.authorization.k8s.io/v1 ----
	{
		name: "role binding subjects",
		in: `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"rb"},"roleRef":{"kind":"Role","name":"r"},
			"subjects":[{"kind":"User","name":"alice"},{"kind":"Group","name":"devs"},{"kind":"ServiceAccount","name":"sa","namespace":"ns"}]}`,
		want: `{"metadata":{"name":"rb"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"r"},
			"subjects":[{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"alice"},{"kind":"Group","apiGroup":"rbac.authorization.k8s.io","name":"devs"},{"kind":"ServiceAccount","name":"sa","namespace":"ns"}]}`,
	},
	{
		name: "cluster role binding",
		in:   `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"crb"},"roleRef":{"kind":"ClusterRole","name":"r"},"subjects":[{"kind":"User","name":"bob"}]}`,
		want: `{"metadata":{"name":"crb"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"r"},"subjects":[{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"bob"}]}`,
	},

	// ---- storage.k8s.io/v1 ----
	{
		name: "storage class",
		in:   `{"apiVersion":"storage.k8s.io/v1","kind":"StorageClass","metadata":{"name":"standard"},"provisioner":"rancher.io/local-path"}`,
		want: `{"metadata":{"name":"standard"},"provisioner":"rancher.io/local-path","reclaimPolicy":"Delete","volumeBindingMode":"Immediate"}`,
	},
	{
		name: "csi driver",
		in:   `{"apiVersion":"storage.k8s.io/v1","kind":"CSIDriver","metadata":{"name":"d"},"spec":{}}`,
		want: `{"metadata":{"name":"d"},"spec":{"attachRequired":true,"podInfoOnMount":false,"volumeLifecycleModes":["Persistent"],"storageCapacity":false,"fsGroupPolicy":"ReadWriteOnceWithFSType","requiresRepublish":false,"seLinuxMount":false}}`,
	},

	// ---- other groups ----
	{
		name: "priority class",
		in:   `{"apiVersion":"scheduling.k8s.io/v1","kind":"PriorityClass","metadata":{"name":"high"},"value":1000}`,
		want: `{"metadata":{"name":"high"},"value":1000,"preemptionPolicy":"PreemptLowerPriority"}`,
	},
	{
		name: "endpoint slice ports",
		in:   `{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"e"},"addressType":"IPv4","endpoints":[{"addresses":["10.0.0.1"]}],"ports":[{"port":80}]}`,
		want: `{"metadata":{"name":"e"},"addressType":"IPv4","endpoints":[{"addresses":["10.0.0.1"]}],"ports":[{"name":"","protocol":"TCP","port":80}]}`,
	},
	{
		name: "pod disruption budget",
		in:   `{"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"name":"p"},"spec":{"minAvailable":1}}`,
		want: `{"metadata":{"name":"p"},"spec":{"minAvailable":1},"status":{"disruptionsAllowed":0,"currentHealthy":0,"desiredHealthy":0,"expectedPods":0}}`,
	},
	{
		name: "validating webhook",
		in: `{"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingWebhookConfiguration","metadata":{"name":"w"},"webhooks":[{"name":"w.example.com",
			"clientConfig":{"service":{"namespace":"ns","name":"svc"}},"rules":[{"operations":["CREATE"],"apiGroups":[""],"apiVersions":["v1"],"resources":["pods"]}],
			"sideEffects":"None","admissionReviewVersions":["v1"]}]}`,
		want: `{"metadata":{"name":"w"},"webhooks":[{"name":"w.example.com","clientConfig":{"service":{"namespace":"ns","name":"svc","port":443}},
			"rules":[{"operations":["CREATE"],"apiGroups":[""],"apiVersions":["v1"],"resources":["pods"],"scope":"*"}],
			"failurePolicy":"Fail","matchPolicy":"Equivalent","namespaceSelector":{},"objectSelector":{},"sideEffects":"None","timeoutSeconds":10,"admissionReviewVersions":["v1"]}]}`,
	},
	{
		name: "mutating webhook",
		in: `{"apiVersion":"admissionregistration.k8s.io/v1","kind":"MutatingWebhookConfiguration","metadata":{"name":"w"},"webhooks":[{"name":"w.example.com",
			"clientConfig":{"url":"https://example.com/m"},"failurePolicy":"Ignore","sideEffects":"None","admissionReviewVersions":["v1"]}]}`,
		want: `{"metadata":{"name":"w"},"webhooks":[{"name":"w.example.com","clientConfig":{"url":"https://example.com/m"},
			"failurePolicy":"Ignore","matchPolicy":"Equivalent","namespaceSelector":{},"objectSelector":{},"sideEffects":"None","timeoutSeconds":10,"admissionReviewVersions":["v1"],"reinvocationPolicy":"Never"}]}`,
	},
	{
		name: "validating admission policy",
		in: `{"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingAdmissionPolicy","metadata":{"name":"p"},"spec":{
			"matchConstraints":{"resourceRules":[{"operations":["CREATE"],"apiGroups":["apps"],"apiVersions":["v1"],"resources":["deployments"]}]},
			"validations":[{"expression":"object.spec.replicas <= 5"}]}}`,
		want: `{"metadata":{"name":"p"},"spec":{"failurePolicy":"Fail",
			"matchConstraints":{"resourceRules":[{"operations":["CREATE"],"apiGroups":["apps"],"apiVersions":["v1"],"resources":["deployments"],"scope":"*"}],"namespaceSelector":{},"objectSelector":{},"matchPolicy":"Equivalent"},
			"validations":[{"expression":"object.spec.replicas <= 5"}]},"status":{}}`,
	},
	{
		name: "flow schema",
		in:   `{"apiVersion":"flowcontrol.apiserver.k8s.io/v1","kind":"FlowSchema","metadata":{"name":"f"},"spec":{"priorityLevelConfiguration":{"name":"p"}}}`,
		want: `{"metadata":{"name":"f"},"spec":{"priorityLevelConfiguration":{"name":"p"},"matchingPrecedence":1000},"status":{}}`,
	},
	{
		name: "priority level configuration",
		in:   `{"apiVersion":"flowcontrol.apiserver.k8s.io/v1","kind":"PriorityLevelConfiguration","metadata":{"name":"p"},"spec":{"type":"Limited","limited":{"limitResponse":{"type":"Queue","queuing":{}}}}}`,
		want: `{"metadata":{"name":"p"},"spec":{"type":"Limited","limited":{"nominalConcurrencyShares":30,"lendablePercent":0,
			"limitResponse":{"type":"Queue","queuing":{"queues":64,"handSize":8,"queueLengthLimit":50}}}},"status":{}}`,
	},
	{
		name: "resource claim",
		in: `{"apiVersion":"resource.k8s.io/v1","kind":"ResourceClaim","metadata":{"name":"c"},"spec":{"devices":{"requests":[
			{"name":"gpu","exactly":{"deviceClassName":"gpu.example.com","tolerations":[{"key":"k"}]}},
			{"name":"any","firstAvailable":[{"name":"a","deviceClassName":"x","allocationMode":"All"}]}]}}}`,
		want: `{"metadata":{"name":"c"},"spec":{"devices":{"requests":[
			{"name":"gpu","exactly":{"deviceClassName":"gpu.example.com","allocationMode":"ExactCount","count":1,"tolerations":[{"key":"k","operator":"Equal"}]}},
			{"name":"any","firstAvailable":[{"name":"a","deviceClassName":"x","allocationMode":"All"}]}]}},"status":{}}`,
	},
	{
		name: "token request",
		in:   `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"audiences":["a"]}}`,
		want: `{"metadata":{},"spec":{"audiences":["a"],"expirationSeconds":3600},"status":{"token":"","expirationTimestamp":null}}`,
	},
}

func TestDefaultRequestBodies(t *testing.T) {
	as := defaultingScheme(t)
	for _, tc := range defaultingCases {
		t.Run(tc.name, func(t *testing.T) {
			var gv []schema.GroupVersion
			if tc.version != nil {
				gv = append(gv, *tc.version)
			}
			got := decodeRequest(t, as, tc.in, gv...)
			assertSame(t, got, wantObject(t, got, tc.want))
		})
	}
}

// TestDefaultIdempotent: defaulting a defaulted object changes nothing, as a real server
// relies on when objects are re-decoded.
func TestDefaultIdempotent(t *testing.T) {
	as := defaultingScheme(t)
	for _, tc := range defaultingCases {
		t.Run(tc.name, func(t *testing.T) {
			once := decodeRequest(t, as, tc.in)
			twice := once.DeepCopyObject()
			as.Default(twice)
			if !reflect.DeepEqual(once, twice) {
				t.Errorf("second defaulting changed the object:\n%s\nto\n%s", toJSON(once), toJSON(twice))
			}
		})
	}
}

func TestDefaultConfigMapData(t *testing.T) {
	cm := decodeRequest(t, defaultingScheme(t), `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}`).(*corev1.ConfigMap)
	if cm.Data == nil {
		t.Error("data is nil, want an empty map")
	}
}

func TestDefaultResourceRounding(t *testing.T) {
	pod := decodeRequest(t, defaultingScheme(t), `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"overhead":{"cpu":"0.0001"},
		"containers":[{"name":"c","image":"c","resources":{"requests":{"cpu":"1.0001m","memory":"100"}}}]}}`).(*corev1.Pod)
	for what, q := range map[string]resource.Quantity{
		"overhead cpu": pod.Spec.Overhead[corev1.ResourceCPU],
		"request cpu":  pod.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU],
	} {
		if q.MilliValue() != 1 && what == "overhead cpu" || q.MilliValue() != 2 && what == "request cpu" {
			t.Errorf("%s: %s", what, q.String())
		}
	}
	if q := pod.Spec.Containers[0].Resources.Requests[corev1.ResourceMemory]; q.String() != "100" {
		t.Errorf("memory: %s", q.String())
	}
}

// templateDefaults is upstream's record of every default inside a PodTemplateSpec
// (k8s.io/kubernetes/pkg/apis/core/v1/defaults_test.go, TestWorkloadDefaults): changing
// any of them rolls out every workload on upgrade, so they are exact.
var templateDefaults = map[string]string{
	".Spec.Containers[0].Env[0].ValueFrom.FieldRef.APIVersion":       `"v1"`,
	".Spec.Containers[0].Env[0].ValueFrom.FileKeyRef.Optional":       `false`,
	".Spec.Containers[0].ImagePullPolicy":                            `"IfNotPresent"`,
	".Spec.Containers[0].Lifecycle.PostStart.HTTPGet.Path":           `"/"`,
	".Spec.Containers[0].Lifecycle.PostStart.HTTPGet.Scheme":         `"HTTP"`,
	".Spec.Containers[0].Lifecycle.PreStop.HTTPGet.Path":             `"/"`,
	".Spec.Containers[0].Lifecycle.PreStop.HTTPGet.Scheme":           `"HTTP"`,
	".Spec.Containers[0].LivenessProbe.FailureThreshold":             `3`,
	".Spec.Containers[0].LivenessProbe.PeriodSeconds":                `10`,
	".Spec.Containers[0].LivenessProbe.ProbeHandler.GRPC.Service":    `""`,
	".Spec.Containers[0].LivenessProbe.ProbeHandler.HTTPGet.Path":    `"/"`,
	".Spec.Containers[0].LivenessProbe.ProbeHandler.HTTPGet.Scheme":  `"HTTP"`,
	".Spec.Containers[0].LivenessProbe.SuccessThreshold":             `1`,
	".Spec.Containers[0].LivenessProbe.TimeoutSeconds":               `1`,
	".Spec.Containers[0].Ports[0].Protocol":                          `"TCP"`,
	".Spec.Containers[0].ReadinessProbe.FailureThreshold":            `3`,
	".Spec.Containers[0].ReadinessProbe.PeriodSeconds":               `10`,
	".Spec.Containers[0].ReadinessProbe.ProbeHandler.GRPC.Service":   `""`,
	".Spec.Containers[0].ReadinessProbe.ProbeHandler.HTTPGet.Path":   `"/"`,
	".Spec.Containers[0].ReadinessProbe.ProbeHandler.HTTPGet.Scheme": `"HTTP"`,
	".Spec.Containers[0].ReadinessProbe.SuccessThreshold":            `1`,
	".Spec.Containers[0].ReadinessProbe.TimeoutSeconds":              `1`,
	".Spec.Containers[0].StartupProbe.FailureThreshold":              `3`,
	".Spec.Containers[0].StartupProbe.PeriodSeconds":                 `10`,
	".Spec.Containers[0].StartupProbe.ProbeHandler.GRPC.Service":     `""`,
	".Spec.Containers[0].StartupProbe.ProbeHandler.HTTPGet.Path":     `"/"`,
	".Spec.Containers[0].StartupProbe.ProbeHandler.HTTPGet.Scheme":   `"HTTP"`,
	".Spec.Containers[0].StartupProbe.SuccessThreshold":              `1`,
	".Spec.Containers[0].StartupProbe.TimeoutSeconds":                `1`,
	".Spec.Containers[0].TerminationMessagePath":                     `"/dev/termination-log"`,
	".Spec.Containers[0].TerminationMessagePolicy":                   `"File"`,
	".Spec.DNSPolicy": `"ClusterFirst"`,
	".Spec.EphemeralContainers[0].EphemeralContainerCommon.Env[0].ValueFrom.FieldRef.APIVersion":       `"v1"`,
	".Spec.EphemeralContainers[0].EphemeralContainerCommon.Env[0].ValueFrom.FileKeyRef.Optional":       `false`,
	".Spec.EphemeralContainers[0].EphemeralContainerCommon.ImagePullPolicy":                            `"IfNotPresent"`,
	".Spec.EphemeralContainers[0].EphemeralContainerCommon.Lifecycle.PostStart.HTTPGet.Path":           `"/"`,
	".Spec.EphemeralContainers[0].EphemeralContainerCommon.Lifecycle.PostStart.HTTPGet.Scheme":         `"HTTP"`,
	".Spec.EphemeralContainers[0].EphemeralContainerCommon.Lifecycle.PreStop.HTTPGet.Path":             `"/"`,
	".Spec.EphemeralContainers[0].EphemeralContainerCommon.Lifecycle.PreStop.HTTPGet.Scheme":           `"HTTP"`,
	".Spec.EphemeralContainers[0].EphemeralContainerCommon.LivenessProbe.FailureThreshold":             `3`,
	".Spec.EphemeralContainers[0].EphemeralContainerCommon.LivenessProbe.PeriodSeconds":                `10`,
	".Spec.EphemeralContainers[0].EphemeralContainerCommon.LivenessProbe.ProbeHandler.GRPC.Service":    `""`,
	".Spec.EphemeralContainers[0].EphemeralContainerCommon.LivenessProbe.ProbeHandler.HTTPGet.Path":    `"/"`,
	".Spec.EphemeralContainers[0].EphemeralContainerCommon.LivenessProbe.ProbeHandler.HTTPGet.Scheme":  `"HTTP"`,
	".Spec.EphemeralContainers[0].EphemeralContainerCommon.LivenessProbe.SuccessThreshold":             `1`,
	".Spec.EphemeralContainers[0].EphemeralContainerCommon.LivenessProbe.TimeoutSeconds":               `1`,
	".Spec.EphemeralContainers[0].EphemeralContainerCommon.Ports[0].Protocol":                          `"TCP"`,
	".Spec.EphemeralContainers[0].EphemeralContainerCommon.ReadinessProbe.FailureThreshold":            `3`,
	".Spec.EphemeralContainers[0].EphemeralContainerCommon.ReadinessProbe.PeriodSeconds":               `10`,
	".Spec.EphemeralContainers[0].EphemeralContainerCommon.ReadinessProbe.ProbeHandler.GRPC.Service":   `""`,
	".Spec.EphemeralContainers[0].EphemeralContainerCommon.ReadinessProbe.ProbeHandler.HTTPGet.Path":   `"/"`,
	".Spec.EphemeralContainers[0].EphemeralContainerCommon.ReadinessProbe.ProbeHandler.HTTPGet.Scheme": `"HTTP"`,
	".Spec.EphemeralContainers[0].EphemeralContainerCommon.ReadinessProbe.SuccessThreshold":            `1`,
	".Spec.EphemeralContainers[0].EphemeralContainerCommon.ReadinessProbe.TimeoutSeconds":              `1`,
	".Spec.EphemeralContainers[0].EphemeralContainerCommon.StartupProbe.FailureThreshold":              `3`,
	".Spec.EphemeralContainers[0].EphemeralContainerCommon.StartupProbe.PeriodSeconds":                 `10`,
	".Spec.EphemeralContainers[0].EphemeralContainerCommon.StartupProbe.ProbeHandler.GRPC.Service":     `""`,
	".Spec.EphemeralContainers[0].EphemeralContainerCommon.StartupProbe.ProbeHandler.HTTPGet.Path":     `"/"`,
	".Spec.EphemeralContainers[0].EphemeralContainerCommon.StartupProbe.ProbeHandler.HTTPGet.Scheme":   `"HTTP"`,
	".Spec.EphemeralContainers[0].EphemeralContainerCommon.StartupProbe.SuccessThreshold":              `1`,
	".Spec.EphemeralContainers[0].EphemeralContainerCommon.StartupProbe.TimeoutSeconds":                `1`,
	".Spec.EphemeralContainers[0].EphemeralContainerCommon.TerminationMessagePath":                     `"/dev/termination-log"`,
	".Spec.EphemeralContainers[0].EphemeralContainerCommon.TerminationMessagePolicy":                   `"File"`,
	".Spec.InitContainers[0].Env[0].ValueFrom.FieldRef.APIVersion":                                     `"v1"`,
	".Spec.InitContainers[0].Env[0].ValueFrom.FileKeyRef.Optional":                                     `false`,
	".Spec.InitContainers[0].ImagePullPolicy":                                                          `"IfNotPresent"`,
	".Spec.InitContainers[0].Lifecycle.PostStart.HTTPGet.Path":                                         `"/"`,
	".Spec.InitContainers[0].Lifecycle.PostStart.HTTPGet.Scheme":                                       `"HTTP"`,
	".Spec.InitContainers[0].Lifecycle.PreStop.HTTPGet.Path":                                           `"/"`,
	".Spec.InitContainers[0].Lifecycle.PreStop.HTTPGet.Scheme":                                         `"HTTP"`,
	".Spec.InitContainers[0].LivenessProbe.FailureThreshold":                                           `3`,
	".Spec.InitContainers[0].LivenessProbe.PeriodSeconds":                                              `10`,
	".Spec.InitContainers[0].LivenessProbe.ProbeHandler.GRPC.Service":                                  `""`,
	".Spec.InitContainers[0].LivenessProbe.ProbeHandler.HTTPGet.Path":                                  `"/"`,
	".Spec.InitContainers[0].LivenessProbe.ProbeHandler.HTTPGet.Scheme":                                `"HTTP"`,
	".Spec.InitContainers[0].LivenessProbe.SuccessThreshold":                                           `1`,
	".Spec.InitContainers[0].LivenessProbe.TimeoutSeconds":                                             `1`,
	".Spec.InitContainers[0].Ports[0].Protocol":                                                        `"TCP"`,
	".Spec.InitContainers[0].ReadinessProbe.FailureThreshold":                                          `3`,
	".Spec.InitContainers[0].ReadinessProbe.PeriodSeconds":                                             `10`,
	".Spec.InitContainers[0].ReadinessProbe.ProbeHandler.GRPC.Service":                                 `""`,
	".Spec.InitContainers[0].ReadinessProbe.ProbeHandler.HTTPGet.Path":                                 `"/"`,
	".Spec.InitContainers[0].ReadinessProbe.ProbeHandler.HTTPGet.Scheme":                               `"HTTP"`,
	".Spec.InitContainers[0].ReadinessProbe.SuccessThreshold":                                          `1`,
	".Spec.InitContainers[0].ReadinessProbe.TimeoutSeconds":                                            `1`,
	".Spec.InitContainers[0].StartupProbe.FailureThreshold":                                            `3`,
	".Spec.InitContainers[0].StartupProbe.PeriodSeconds":                                               `10`,
	".Spec.InitContainers[0].StartupProbe.ProbeHandler.GRPC.Service":                                   `""`,
	".Spec.InitContainers[0].StartupProbe.ProbeHandler.HTTPGet.Path":                                   `"/"`,
	".Spec.InitContainers[0].StartupProbe.ProbeHandler.HTTPGet.Scheme":                                 `"HTTP"`,
	".Spec.InitContainers[0].StartupProbe.SuccessThreshold":                                            `1`,
	".Spec.InitContainers[0].StartupProbe.TimeoutSeconds":                                              `1`,
	".Spec.InitContainers[0].TerminationMessagePath":                                                   `"/dev/termination-log"`,
	".Spec.InitContainers[0].TerminationMessagePolicy":                                                 `"File"`,
	".Spec.RestartPolicy":                                                                         `"Always"`,
	".Spec.SchedulerName":                                                                         `"default-scheduler"`,
	".Spec.SecurityContext":                                                                       `{}`,
	".Spec.TerminationGracePeriodSeconds":                                                         `30`,
	".Spec.Volumes[0].VolumeSource.AzureDisk.CachingMode":                                         `"ReadWrite"`,
	".Spec.Volumes[0].VolumeSource.AzureDisk.FSType":                                              `"ext4"`,
	".Spec.Volumes[0].VolumeSource.AzureDisk.Kind":                                                `"Shared"`,
	".Spec.Volumes[0].VolumeSource.AzureDisk.ReadOnly":                                            `false`,
	".Spec.Volumes[0].VolumeSource.ConfigMap.DefaultMode":                                         `420`,
	".Spec.Volumes[0].VolumeSource.DownwardAPI.DefaultMode":                                       `420`,
	".Spec.Volumes[0].VolumeSource.DownwardAPI.Items[0].FieldRef.APIVersion":                      `"v1"`,
	".Spec.Volumes[0].VolumeSource.EmptyDir":                                                      `{}`,
	".Spec.Volumes[0].VolumeSource.Ephemeral.VolumeClaimTemplate.Spec.VolumeMode":                 `"Filesystem"`,
	".Spec.Volumes[0].VolumeSource.HostPath.Type":                                                 `""`,
	".Spec.Volumes[0].VolumeSource.ISCSI.ISCSIInterface":                                          `"default"`,
	".Spec.Volumes[0].VolumeSource.Image.PullPolicy":                                              `"IfNotPresent"`,
	".Spec.Volumes[0].VolumeSource.Projected.DefaultMode":                                         `420`,
	".Spec.Volumes[0].VolumeSource.Projected.Sources[0].DownwardAPI.Items[0].FieldRef.APIVersion": `"v1"`,
	".Spec.Volumes[0].VolumeSource.Projected.Sources[0].ServiceAccountToken.ExpirationSeconds":    `3600`,
	".Spec.Volumes[0].VolumeSource.RBD.Keyring":                                                   `"/etc/ceph/keyring"`,
	".Spec.Volumes[0].VolumeSource.RBD.RBDPool":                                                   `"rbd"`,
	".Spec.Volumes[0].VolumeSource.RBD.RadosUser":                                                 `"admin"`,
	".Spec.Volumes[0].VolumeSource.ScaleIO.FSType":                                                `"xfs"`,
	".Spec.Volumes[0].VolumeSource.ScaleIO.StorageMode":                                           `"ThinProvisioned"`,
	".Spec.Volumes[0].VolumeSource.Secret.DefaultMode":                                            `420`,
}

// probedDefaults finds the defaults below root, a value inside obj, the way upstream's
// workload-defaults test does: it walks the fields breadth first, defaulting obj before
// each step; a nil struct pointer, slice of structs or map of structs it reaches is filled
// (with a zero struct, one element, one "" entry) so the walk goes on below it, and a
// field already set when reached was set by defaulting, and is recorded as JSON.
func probedDefaults(t *testing.T, as *apiScheme, obj runtime.Object, root reflect.Value) map[string]string {
	type step struct {
		path string
		v    reflect.Value
	}
	found := map[string]string{}
	record := func(path string, v reflect.Value) {
		b, err := json.Marshal(v.Interface())
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		found[path] = string(b)
	}
	queue := []step{{"", root}}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		as.Default(obj)
		v := s.v
		switch v.Kind() {
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				if v.Field(i).CanSet() {
					queue = append(queue, step{s.path + "." + v.Type().Field(i).Name, v.Field(i)})
				}
			}
		case reflect.Pointer:
			switch {
			case !v.IsNil():
				if s.path != "" {
					record(s.path, v)
				}
				queue = append(queue, step{s.path, v.Elem()})
			case v.Type().Elem().Kind() == reflect.Struct:
				v.Set(reflect.New(v.Type().Elem()))
				queue = append(queue, step{s.path, v.Elem()})
			}
		case reflect.Slice:
			switch {
			case !v.IsNil():
				record(s.path, v)
				if v.Len() > 0 {
					queue = append(queue, step{s.path + "[0]", v.Index(0)})
				}
			case v.Type().Elem().Kind() == reflect.Struct && !strings.HasPrefix(s.path, ".ObjectMeta.ManagedFields"):
				v.Set(reflect.Append(v, reflect.New(v.Type().Elem()).Elem()))
				queue = append(queue, step{s.path + "[0]", v.Index(0)})
			}
		case reflect.Map:
			switch {
			case !v.IsNil():
				record(s.path, v)
			case v.Type().Key().Kind() == reflect.String && v.Type().Elem().Kind() == reflect.Struct &&
				!strings.HasPrefix(s.path, ".ObjectMeta.ManagedFields"):
				item := reflect.New(v.Type().Elem()).Elem()
				v.Set(reflect.MakeMap(v.Type()))
				v.SetMapIndex(reflect.New(v.Type().Key()).Elem(), item)
				queue = append(queue, step{s.path + "[*]", item})
			}
		case reflect.String, reflect.Bool, reflect.Int, reflect.Int32, reflect.Int64:
			if !v.IsZero() {
				record(s.path, v)
			}
		}
	}
	return found
}

func diffDefaults(t *testing.T, got, want map[string]string) {
	t.Helper()
	var lines []string
	for k, v := range want {
		if g, ok := got[k]; !ok {
			lines = append(lines, "missing "+k+" = "+v)
		} else if g != v {
			lines = append(lines, "wrong   "+k+" = "+g+", want "+v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			lines = append(lines, "extra   "+k+" = "+v)
		}
	}
	sort.Strings(lines)
	for _, l := range lines {
		t.Error(l)
	}
}

// TestDefaultPodTemplateFields checks the defaults of every field below the pod template of
// each kind that has one against upstream's list, and those of a Pod: the template's plus
// enableServiceLinks and requests from limits.
func TestDefaultPodTemplateFields(t *testing.T) {
	as := defaultingScheme(t)
	templates := map[string]func() (runtime.Object, *corev1.PodTemplateSpec){
		"ReplicationController": func() (runtime.Object, *corev1.PodTemplateSpec) {
			o := &corev1.ReplicationController{Spec: corev1.ReplicationControllerSpec{Template: &corev1.PodTemplateSpec{}}}
			return o, o.Spec.Template
		},
		"PodTemplate": func() (runtime.Object, *corev1.PodTemplateSpec) {
			o := &corev1.PodTemplate{}
			return o, &o.Template
		},
		"Deployment": func() (runtime.Object, *corev1.PodTemplateSpec) {
			o := &appsv1.Deployment{}
			return o, &o.Spec.Template
		},
		"ReplicaSet": func() (runtime.Object, *corev1.PodTemplateSpec) {
			o := &appsv1.ReplicaSet{}
			return o, &o.Spec.Template
		},
		"StatefulSet": func() (runtime.Object, *corev1.PodTemplateSpec) {
			o := &appsv1.StatefulSet{}
			return o, &o.Spec.Template
		},
		"DaemonSet": func() (runtime.Object, *corev1.PodTemplateSpec) {
			o := &appsv1.DaemonSet{}
			return o, &o.Spec.Template
		},
		"Job": func() (runtime.Object, *corev1.PodTemplateSpec) {
			o := &batchv1.Job{}
			return o, &o.Spec.Template
		},
		"CronJob": func() (runtime.Object, *corev1.PodTemplateSpec) {
			o := &batchv1.CronJob{}
			return o, &o.Spec.JobTemplate.Spec.Template
		},
	}
	for kind, mk := range templates {
		t.Run(kind, func(t *testing.T) {
			obj, tmpl := mk()
			diffDefaults(t, probedDefaults(t, as, obj, reflect.ValueOf(tmpl)), templateDefaults)
		})
	}
	t.Run("Pod", func(t *testing.T) {
		want := map[string]string{
			".Spec.EnableServiceLinks":                   `true`,
			".Spec.Containers[0].Resources.Requests":     `{"":"0"}`,
			".Spec.InitContainers[0].Resources.Requests": `{"":"0"}`,
		}
		for k, v := range templateDefaults {
			want[k] = v
		}
		pod := &corev1.Pod{}
		diffDefaults(t, probedDefaults(t, as, pod, reflect.ValueOf(pod)), want)
	})
}

func TestDefaultImagePullPolicy(t *testing.T) {
	digest := "sha256:" + strings.Repeat("0123456789abcdef", 4)
	for image, want := range map[string]corev1.PullPolicy{
		"nginx":                              corev1.PullAlways,
		"nginx:latest":                       corev1.PullAlways,
		"nginx:1.27":                         corev1.PullIfNotPresent,
		"library/nginx:latest":               corev1.PullAlways,
		"docker.io/library/nginx":            corev1.PullAlways,
		"index.docker.io/nginx:1":            corev1.PullIfNotPresent,
		"nginx@" + digest:                    corev1.PullIfNotPresent,
		"nginx:latest@" + digest:             corev1.PullAlways,
		"nginx:1@" + digest:                  corev1.PullIfNotPresent,
		"nginx@sha256:0123":                  corev1.PullIfNotPresent, // invalid digest
		"registry.example.com:5000/team/app": corev1.PullAlways,
		"registry.example.com:5000/app:v2":   corev1.PullIfNotPresent,
		"localhost/app":                      corev1.PullAlways,
		"[::1]:5000/app":                     corev1.PullAlways,
		"quay.io/org/sub/app:latest":         corev1.PullAlways,
		"rancher/rancher-agent:v2.12.1":      corev1.PullIfNotPresent,
		"":                                   corev1.PullIfNotPresent, // invalid
		"Nginx":                              corev1.PullIfNotPresent, // uppercase repository
		"quay.io/Org/app":                    corev1.PullIfNotPresent,
		"nginx:":                             corev1.PullIfNotPresent,
		"nginx::1":                           corev1.PullIfNotPresent,
		strings.Repeat("ab", 32):             corev1.PullIfNotPresent, // an image ID
		"app_" + strings.Repeat("x", 260):    corev1.PullIfNotPresent, // name too long
	} {
		if got := defaultPullPolicy(image); got != want {
			t.Errorf("%q: %s, want %s", image, got, want)
		}
	}
}

// TestPodQOSClass runs upstream's ComputePodQOS cases (PodLevelResources on).
func TestPodQOSClass(t *testing.T) {
	rl := func(cpu, memory string, more ...string) corev1.ResourceList {
		l := corev1.ResourceList{}
		if cpu != "" {
			l[corev1.ResourceCPU] = resource.MustParse(cpu)
		}
		if memory != "" {
			l[corev1.ResourceMemory] = resource.MustParse(memory)
		}
		for i := 0; i+1 < len(more); i += 2 {
			l[corev1.ResourceName(more[i])] = resource.MustParse(more[i+1])
		}
		return l
	}
	c := func(requests, limits corev1.ResourceList) corev1.Container {
		return corev1.Container{Resources: corev1.ResourceRequirements{Requests: requests, Limits: limits}}
	}
	pod := func(podLevel *corev1.ResourceRequirements, containers ...corev1.Container) *corev1.Pod {
		return &corev1.Pod{Spec: corev1.PodSpec{Containers: containers, Resources: podLevel}}
	}
	cases := []struct {
		name string
		pod  *corev1.Pod
		want corev1.PodQOSClass
	}{
		{"guaranteed", pod(nil, c(rl("100m", "100Mi"), rl("100m", "100Mi"))), corev1.PodQOSGuaranteed},
		{"guaranteed-guaranteed", pod(nil, c(rl("100m", "100Mi"), rl("100m", "100Mi")), c(rl("100m", "100Mi"), rl("100m", "100Mi"))), corev1.PodQOSGuaranteed},
		{"best-effort-best-effort", pod(nil, c(rl("", ""), rl("", "")), c(rl("", ""), rl("", ""))), corev1.PodQOSBestEffort},
		{"best-effort", pod(nil, c(rl("", ""), rl("", ""))), corev1.PodQOSBestEffort},
		{"no containers", pod(nil), corev1.PodQOSBestEffort},
		{"best-effort-burstable", pod(nil, c(rl("", ""), rl("", "")), c(rl("1", ""), rl("2", ""))), corev1.PodQOSBurstable},
		{"best-effort-guaranteed", pod(nil, c(rl("", ""), rl("", "")), c(rl("10m", "100Mi"), rl("10m", "100Mi"))), corev1.PodQOSBurstable},
		{"burstable-cpu-guaranteed-memory", pod(nil, c(rl("", "100Mi"), rl("", "100Mi"))), corev1.PodQOSBurstable},
		{"burstable-no-limits", pod(nil, c(rl("100m", "100Mi"), rl("", ""))), corev1.PodQOSBurstable},
		{"burstable-guaranteed", pod(nil, c(rl("1", "100Mi"), rl("2", "100Mi")), c(rl("100m", "100Mi"), rl("100m", "100Mi"))), corev1.PodQOSBurstable},
		{"burstable-unbounded-but-requests-match-limits", pod(nil, c(rl("100m", "100Mi"), rl("200m", "200Mi")), c(rl("100m", "100Mi"), rl("", ""))), corev1.PodQOSBurstable},
		{"burstable-1", pod(nil, c(rl("10m", "100Mi"), rl("100m", "200Mi"))), corev1.PodQOSBurstable},
		{"burstable-2", pod(nil, c(rl("0", "0"), rl("100m", "200Mi"))), corev1.PodQOSBurstable},
		{"best-effort-hugepages", pod(nil, c(rl("0", "0", "hugepages-2Mi", "1Gi"), rl("0", "0", "hugepages-2Mi", "1Gi"))), corev1.PodQOSBestEffort},
		{"init-container", &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{c(rl("", ""), rl("", ""))},
			InitContainers: []corev1.Container{c(rl("10m", "100Mi"), rl("100m", "200Mi"))}}}, corev1.PodQOSBurstable},
		{"ephemeral containers do not count", &corev1.Pod{Spec: corev1.PodSpec{
			EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
				Resources: corev1.ResourceRequirements{Requests: rl("1", "1Gi"), Limits: rl("1", "1Gi")}}}}}}, corev1.PodQOSBestEffort},
		{"guaranteed-with-pod-level-resources", pod(&corev1.ResourceRequirements{Requests: rl("10m", "100Mi"), Limits: rl("10m", "100Mi")},
			c(rl("", ""), rl("", ""))), corev1.PodQOSGuaranteed},
		{"guaranteed-with-pod-and-container-level-resources", pod(&corev1.ResourceRequirements{Requests: rl("10m", "100Mi"), Limits: rl("10m", "100Mi")},
			c(rl("3m", "10Mi"), rl("5m", "20Mi"))), corev1.PodQOSGuaranteed},
		{"burstable-with-pod-level-resources", pod(&corev1.ResourceRequirements{Requests: rl("10m", "10Mi"), Limits: rl("20m", "50Mi")},
			c(rl("", ""), rl("", ""))), corev1.PodQOSBurstable},
		{"burstable-with-pod-and-container-level-resources", pod(&corev1.ResourceRequirements{Requests: rl("10m", "10Mi"), Limits: rl("20m", "50Mi")},
			c(rl("5m", "10Mi"), rl("5m", "10Mi"))), corev1.PodQOSBurstable},
		{"burstable-with-pod-and-container-level-requests", pod(&corev1.ResourceRequirements{Requests: rl("10m", "10Mi"), Limits: rl("", "")},
			c(rl("5m", "10Mi"), rl("", ""))), corev1.PodQOSBurstable},
		{"burstable-with-pod-and-container-level-resources-2", pod(&corev1.ResourceRequirements{Requests: rl("10m", "10Mi"), Limits: rl("5m", "")},
			c(rl("5m", "10Mi"), rl("", "")), c(rl("5m", "10Mi"), rl("5m", "10Mi"))), corev1.PodQOSBurstable},
		// Pod-level resources decide alone, even when empty.
		{"empty pod-level resources", pod(&corev1.ResourceRequirements{}, c(rl("1", "1Gi"), rl("1", "1Gi"))), corev1.PodQOSBestEffort},
	}
	for _, tc := range cases {
		if got := podQOSClass(tc.pod); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

// TestDefaultsEndToEnd creates objects as kubectl would and reads back what a real server
// stores.
func TestDefaultsEndToEnd(t *testing.T) {
	_, cfg := testCluster(t)
	cs := kubernetes.NewForConfigOrDie(cfg)
	ctx := context.Background()
	const ns = "default"

	// kubectl create secret generic s --from-literal=k=v
	sec, err := cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s"},
		Data: map[string][]byte{"k": []byte("v")}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sec.Type != corev1.SecretTypeOpaque {
		t.Errorf("secret type %q", sec.Type)
	}

	// kubectl create deployment nginx --image=nginx
	labels := map[string]string{"app": "nginx"}
	dep, err := cs.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "nginx", Labels: labels},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](1), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "nginx", Image: "nginx"}}}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := cs.AppsV1().Deployments(ns).Get(ctx, "nginx", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !apiequality.Semantic.DeepEqual(got.Spec, dep.Spec) {
		t.Errorf("created and read back differ:\n%s\n%s", toJSON(dep.Spec), toJSON(got.Spec))
	}
	wantSpec := appsv1.DeploymentSpec{
		Replicas: ptr.To[int32](1), Selector: &metav1.LabelSelector{MatchLabels: labels},
		Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{
			MaxUnavailable: ptr.To(intstr.FromString("25%")), MaxSurge: ptr.To(intstr.FromString("25%"))}},
		RevisionHistoryLimit: ptr.To[int32](10), ProgressDeadlineSeconds: ptr.To[int32](600),
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "nginx", Image: "nginx", ImagePullPolicy: corev1.PullAlways,
				TerminationMessagePath: "/dev/termination-log", TerminationMessagePolicy: corev1.TerminationMessageReadFile}},
			RestartPolicy: corev1.RestartPolicyAlways, TerminationGracePeriodSeconds: ptr.To[int64](30), DNSPolicy: corev1.DNSClusterFirst,
			SecurityContext: &corev1.PodSecurityContext{}, SchedulerName: corev1.DefaultSchedulerName}},
	}
	if !apiequality.Semantic.DeepEqual(got.Spec, wantSpec) {
		t.Errorf("deployment spec:\n%s\nwant\n%s", toJSON(got.Spec), toJSON(wantSpec))
	}

	// An update that drops a defaulted field gets it back.
	got.Spec.RevisionHistoryLimit = nil
	got.Spec.Template.Spec.Containers[0].TerminationMessagePath = ""
	upd, err := cs.AppsV1().Deployments(ns).Update(ctx, got, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if upd.Spec.RevisionHistoryLimit == nil || *upd.Spec.RevisionHistoryLimit != 10 ||
		upd.Spec.Template.Spec.Containers[0].TerminationMessagePath != "/dev/termination-log" {
		t.Errorf("update not defaulted: %s", toJSON(upd.Spec))
	}
	if upd.ResourceVersion != got.ResourceVersion {
		t.Errorf("an update that defaulting undoes changed the resource version: %s -> %s", got.ResourceVersion, upd.ResourceVersion)
	}

	// A strategic merge patch adding a port and a probe: both defaulted.
	patched, err := cs.AppsV1().Deployments(ns).Patch(ctx, "nginx", types.StrategicMergePatchType,
		[]byte(`{"spec":{"template":{"spec":{"containers":[{"name":"nginx","ports":[{"containerPort":80}],"readinessProbe":{"httpGet":{"port":80}}}]}}}}`),
		metav1.PatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := patched.Spec.Template.Spec.Containers[0]
	if len(c.Ports) != 1 || c.Ports[0].Protocol != corev1.ProtocolTCP || c.ReadinessProbe == nil ||
		c.ReadinessProbe.HTTPGet.Path != "/" || c.ReadinessProbe.PeriodSeconds != 10 {
		t.Errorf("patched container not defaulted: %s", toJSON(c))
	}

	// kubectl run nginx --image=nginx:1.27
	pod, err := cs.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "nginx"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "nginx", Image: "nginx:1.27",
			Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")}}}}}},
		metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pc := pod.Spec.Containers[0]
	if pod.Spec.RestartPolicy != corev1.RestartPolicyAlways || pod.Spec.DNSPolicy != corev1.DNSClusterFirst ||
		pod.Spec.SchedulerName != corev1.DefaultSchedulerName || pod.Spec.EnableServiceLinks == nil || !*pod.Spec.EnableServiceLinks ||
		pod.Spec.TerminationGracePeriodSeconds == nil || *pod.Spec.TerminationGracePeriodSeconds != 30 || pod.Spec.SecurityContext == nil ||
		pc.ImagePullPolicy != corev1.PullIfNotPresent || pc.TerminationMessagePolicy != corev1.TerminationMessageReadFile ||
		pc.Resources.Requests.Cpu().String() != "500m" {
		t.Errorf("pod not defaulted: %s", toJSON(pod.Spec))
	}

	// kubectl create service nodeport web --tcp=80:8080
	svc, err := cs.CoreV1().Services(ns).Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{{Name: "80-8080", Port: 80, TargetPort: intstr.FromInt32(8080)}}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if svc.Spec.SessionAffinity != corev1.ServiceAffinityNone || svc.Spec.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyCluster ||
		svc.Spec.InternalTrafficPolicy == nil || *svc.Spec.InternalTrafficPolicy != corev1.ServiceInternalTrafficPolicyCluster ||
		svc.Spec.IPFamilyPolicy == nil || *svc.Spec.IPFamilyPolicy != corev1.IPFamilyPolicySingleStack ||
		!reflect.DeepEqual(svc.Spec.IPFamilies, []corev1.IPFamily{corev1.IPv4Protocol}) ||
		svc.Spec.Ports[0].Protocol != corev1.ProtocolTCP || svc.Spec.Ports[0].TargetPort != intstr.FromInt32(8080) {
		t.Errorf("service not defaulted: %s", toJSON(svc.Spec))
	}

	// kubectl autoscale deployment nginx --max=5 (autoscaling/v1), read through v2.
	if _, err := cs.AutoscalingV1().HorizontalPodAutoscalers(ns).Create(ctx, &autoscalingv1.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "nginx"},
		Spec: autoscalingv1.HorizontalPodAutoscalerSpec{MaxReplicas: 5,
			ScaleTargetRef: autoscalingv1.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "nginx"}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	h1, err := cs.AutoscalingV1().HorizontalPodAutoscalers(ns).Get(ctx, "nginx", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if h1.Spec.MinReplicas == nil || *h1.Spec.MinReplicas != 1 || h1.Spec.TargetCPUUtilizationPercentage == nil || *h1.Spec.TargetCPUUtilizationPercentage != 80 {
		t.Errorf("hpa v1: %s", toJSON(h1.Spec))
	}
	h2, err := cs.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, "nginx", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(h2.Spec.Metrics) != 1 || h2.Spec.Metrics[0].Resource == nil || h2.Spec.Metrics[0].Resource.Name != corev1.ResourceCPU ||
		h2.Spec.Metrics[0].Resource.Target.AverageUtilization == nil || *h2.Spec.Metrics[0].Resource.Target.AverageUtilization != 80 {
		t.Errorf("hpa v2: %s", toJSON(h2.Spec))
	}
}

// TestDefaultsServerSideApply: applying the same configuration again is a no-op (the
// defaults are nobody's fields and do not count as a change), and the applier owns only
// what it applied.
func TestDefaultsServerSideApply(t *testing.T) {
	_, cfg := testCluster(t)
	cs := kubernetes.NewForConfigOrDie(cfg)
	ctx := context.Background()
	apply := func(image string) *appsv1.Deployment {
		t.Helper()
		labels := map[string]string{"app": "web"}
		ac := appsv1ac.Deployment("web", "default").
			WithLabels(labels).
			WithSpec(appsv1ac.DeploymentSpec().
				WithReplicas(2).
				WithSelector(metav1ac.LabelSelector().WithMatchLabels(labels)).
				WithTemplate(corev1ac.PodTemplateSpec().
					WithLabels(labels).
					WithSpec(corev1ac.PodSpec().WithContainers(corev1ac.Container().
						WithName("web").WithImage(image).
						WithPorts(corev1ac.ContainerPort().WithContainerPort(8080)).
						WithReadinessProbe(corev1ac.Probe().WithHTTPGet(corev1ac.HTTPGetAction().WithPort(intstr.FromInt32(8080))))))))
		d, err := cs.AppsV1().Deployments("default").Apply(ctx, ac, metav1.ApplyOptions{FieldManager: "test", Force: true})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	first := apply("web:1")
	if first.Spec.RevisionHistoryLimit == nil || *first.Spec.RevisionHistoryLimit != 10 ||
		first.Spec.Template.Spec.Containers[0].Ports[0].Protocol != corev1.ProtocolTCP ||
		first.Spec.Template.Spec.Containers[0].ReadinessProbe.TimeoutSeconds != 1 {
		t.Errorf("applied deployment not defaulted: %s", toJSON(first.Spec))
	}
	second := apply("web:1")
	a, b := first.DeepCopy(), second.DeepCopy()
	a.ResourceVersion, b.ResourceVersion = "", ""
	if !apiequality.Semantic.DeepEqual(a, b) {
		t.Errorf("re-applying changed the object:\n%s\n%s", toJSON(a), toJSON(b))
	}
	if second.Generation != first.Generation {
		t.Errorf("re-applying changed the generation: %d -> %d", first.Generation, second.Generation)
	}
	if !apiequality.Semantic.DeepEqual(first.ManagedFields, second.ManagedFields) {
		t.Errorf("managed fields changed:\n%s\n%s", toJSON(first.ManagedFields), toJSON(second.ManagedFields))
	}
	for _, mf := range second.ManagedFields {
		if mf.Manager != "test" || mf.FieldsV1 == nil {
			continue
		}
		fields := string(mf.FieldsV1.Raw)
		for _, defaulted := range []string{"f:revisionHistoryLimit", "f:progressDeadlineSeconds", "f:strategy", "f:dnsPolicy", "f:imagePullPolicy", "f:protocol", "f:timeoutSeconds"} {
			if strings.Contains(fields, defaulted) {
				t.Errorf("the applier owns the defaulted %s: %s", defaulted, fields)
			}
		}
	}
	third := apply("web:2")
	if third.ResourceVersion == second.ResourceVersion || third.Generation != second.Generation+1 {
		t.Errorf("a changed apply: rv %s -> %s, generation %d -> %d", second.ResourceVersion, third.ResourceVersion, second.Generation, third.Generation)
	}
	if third.Spec.Template.Spec.Containers[0].ImagePullPolicy != corev1.PullIfNotPresent || third.Spec.ProgressDeadlineSeconds == nil {
		t.Errorf("defaults lost on re-apply: %s", toJSON(third.Spec))
	}

	if second.ResourceVersion != first.ResourceVersion {
		t.Errorf("re-applying changed the resource version: %s -> %s", first.ResourceVersion, second.ResourceVersion)
	}
}
