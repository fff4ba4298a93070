package mockapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
)

// ---------------------------------------------------------------------------------------
// Store level: the per-cluster object store without the apiserver on top.
// ---------------------------------------------------------------------------------------

func newTestStore(history int) *Store { return NewStore(clientgoscheme.Scheme, history) }

// TestStoreWriteSemantics runs one sequence of writes over several kinds against a fresh
// Store: every successful write takes the next resourceVersion of the store (one counter
// for all kinds), stamps it into the stored object, and failed writes (existing key, stale
// compare-and-swap, missing object) leave the counter alone.
func TestStoreWriteSemantics(t *testing.T) {
	s := newTestStore(0)
	isConflict := func(err error) bool { return err == errConflict }
	steps := []struct {
		name    string
		do      func() (runtime.Object, error)
		wantErr func(error) bool // nil: the write must succeed
		wantRV  uint64           // the store's resourceVersion afterwards
	}{
		{"create configmap", func() (runtime.Object, error) {
			return s.create(cmGVR, cmGVK, stConfigMap("ns-a", "a", nil, "k", "1"))
		}, nil, 1},
		{"create secret (another kind shares the counter)", func() (runtime.Object, error) {
			return s.create(secGVR, secGVK, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns-a", Name: "s"}})
		}, nil, 2},
		{"create pod", func() (runtime.Object, error) { return s.create(podGVR, podGVK, stPod("ns-b", "p", nil)) }, nil, 3},
		{"create existing key", func() (runtime.Object, error) {
			return s.create(cmGVR, cmGVK, stConfigMap("ns-a", "a", nil))
		}, storage.IsExist, 3},
		{"same name in another namespace", func() (runtime.Object, error) {
			return s.create(cmGVR, cmGVK, stConfigMap("ns-b", "a", nil))
		}, nil, 4},
		{"update with current resourceVersion", func() (runtime.Object, error) {
			return s.update(cmGVR, stConfigMap("ns-a", "a", nil, "k", "2"), 1)
		}, nil, 5},
		{"update with stale resourceVersion", func() (runtime.Object, error) {
			return s.update(cmGVR, stConfigMap("ns-a", "a", nil, "k", "3"), 1)
		}, isConflict, 5},
		{"update of a missing object", func() (runtime.Object, error) {
			return s.update(cmGVR, stConfigMap("ns-a", "missing", nil), 1)
		}, apierrors.IsNotFound, 5},
		{"remove without precondition", func() (runtime.Object, error) { return s.remove(secGVR, "ns-a", "s", 0) }, nil, 6},
		{"remove with stale resourceVersion", func() (runtime.Object, error) { return s.remove(cmGVR, "ns-a", "a", 1) }, isConflict, 6},
		{"remove with current resourceVersion", func() (runtime.Object, error) { return s.remove(cmGVR, "ns-a", "a", 5) }, nil, 7},
		{"remove of a missing object", func() (runtime.Object, error) { return s.remove(cmGVR, "ns-a", "a", 0) }, apierrors.IsNotFound, 7},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			obj, err := st.do()
			switch {
			case st.wantErr == nil && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case st.wantErr != nil && (err == nil || !st.wantErr(err)):
				t.Fatalf("got error %v, want a different one", err)
			}
			if got := s.ResourceVersion(); got != st.wantRV {
				t.Errorf("store resourceVersion = %d, want %d", got, st.wantRV)
			}
			if err == nil {
				if got := stRV(t, obj); got != st.wantRV {
					t.Errorf("returned object resourceVersion = %d, want %d", got, st.wantRV)
				}
			}
		})
	}
	items, rv, err := s.list(cmGVR, cmGVK, "")
	if err != nil {
		t.Fatal(err)
	}
	if rv != 7 || len(items) != 1 || objectKey(items[0]) != "ns-b/a" {
		t.Errorf("list = %v at %d, want [ns-b/a] at 7", items, rv)
	}
	stored, err := s.get(cmGVR, "ns-b", "a")
	if err != nil {
		t.Fatal(err)
	}
	if got := stRV(t, stored); got != 4 {
		t.Errorf("stored ns-b/a resourceVersion = %d, want 4", got)
	}
}

// TestStoreListOrderAndScope checks that lists come in etcd key order (namespace, then
// name) whatever the creation order, are limited to the namespace asked for, and carry the
// store's resourceVersion.
func TestStoreListOrderAndScope(t *testing.T) {
	s := newTestStore(0)
	for _, k := range [][2]string{{"ns-c", "a"}, {"ns-a", "b"}, {"ns-b", "a"}, {"ns-a", "a"}, {"ns-a", "a-1"}, {"ns-a", "B"}} {
		if _, err := s.create(cmGVR, cmGVK, stConfigMap(k[0], k[1], nil)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.create(secGVR, secGVK, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns-a", Name: "s"}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ns   string
		want []string
	}{
		{"", []string{"ns-a/B", "ns-a/a", "ns-a/a-1", "ns-a/b", "ns-b/a", "ns-c/a"}},
		{"ns-a", []string{"ns-a/B", "ns-a/a", "ns-a/a-1", "ns-a/b"}},
		{"ns-c", []string{"ns-c/a"}},
		{"ns-none", nil},
	}
	for _, tt := range tests {
		t.Run("ns="+tt.ns, func(t *testing.T) {
			items, rv, err := s.list(cmGVR, cmGVK, tt.ns)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, it := range items {
				got = append(got, objectKey(it))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("list = %v, want %v", got, tt.want)
			}
			if rv != 7 {
				t.Errorf("list resourceVersion = %d, want 7", rv)
			}
		})
	}
}

// TestStoreClustersAreIndependent: each store counts its own resourceVersions.
func TestStoreClustersAreIndependent(t *testing.T) {
	a, b := newTestStore(0), newTestStore(0)
	for i := 0; i < 5; i++ {
		if _, err := a.create(cmGVR, cmGVK, stConfigMap("ns-a", fmt.Sprintf("cm-%d", i), nil)); err != nil {
			t.Fatal(err)
		}
	}
	obj, err := b.create(cmGVR, cmGVK, stConfigMap("ns-a", "cm-0", nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := stRV(t, obj); got != 1 {
		t.Errorf("first object of store b has resourceVersion %d, want 1", got)
	}
	if a.ResourceVersion() != 5 || b.ResourceVersion() != 1 {
		t.Errorf("resourceVersions a=%d b=%d, want 5 and 1", a.ResourceVersion(), b.ResourceVersion())
	}
}

// TestStoreSeed: seeded objects take resourceVersions but record no events; the watch
// history starts after them.
func TestStoreSeed(t *testing.T) {
	s := newTestStore(0)
	for i := 0; i < 3; i++ {
		if err := s.Seed(cmGVR, cmGVK, stConfigMap("ns-a", fmt.Sprintf("cm-%d", i), nil)); err != nil {
			t.Fatal(err)
		}
	}
	if s.ResourceVersion() != 3 {
		t.Fatalf("resourceVersion after seeding = %d, want 3", s.ResourceVersion())
	}
	if err := s.Seed(cmGVR, cmGVK, stConfigMap("ns-a", "cm-0", nil)); err == nil {
		t.Error("seeding an existing object succeeded")
	}
	if ev, ok := s.history.since(3); !ok || len(ev) != 0 {
		t.Errorf("history since 3 = %v, %v; want no events, ok", ev, ok)
	}
	if _, ok := s.history.since(2); ok {
		t.Error("history since 2 is available although the seed recorded no events")
	}
}

// TestEventRing checks the bounded history: which resourceVersions can still be resumed from.
func TestEventRing(t *testing.T) {
	ring := func(max int, start uint64, rvs ...uint64) *eventRing {
		r := &eventRing{max: max, start: start}
		for _, rv := range rvs {
			r.add(event{rv: rv})
		}
		return r
	}
	tests := []struct {
		name   string
		r      *eventRing
		since  uint64
		want   []uint64
		wantOK bool
	}{
		{"empty", ring(3, 0), 0, nil, true},
		{"not wrapped, from start", ring(3, 0, 1, 2), 0, []uint64{1, 2}, true},
		{"not wrapped, from middle", ring(3, 0, 1, 2), 1, []uint64{2}, true},
		{"wrapped, from the last evicted", ring(3, 0, 1, 2, 3, 4, 5), 2, []uint64{3, 4, 5}, true},
		{"wrapped, from before the last evicted", ring(3, 0, 1, 2, 3, 4, 5), 1, nil, false},
		{"wrapped, from middle", ring(3, 0, 1, 2, 3, 4, 5), 4, []uint64{5}, true},
		{"wrapped, from newest", ring(3, 0, 1, 2, 3, 4, 5), 5, nil, true},
		{"seeded start", ring(3, 10, 11), 9, nil, false},
		{"seeded start, from start", ring(3, 10, 11), 10, []uint64{11}, true},
		{"wrapped twice", ring(2, 0, 1, 2, 3, 4, 5, 6, 7), 5, []uint64{6, 7}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, ok := tt.r.since(tt.since)
			var got []uint64
			for _, e := range evs {
				got = append(got, e.rv)
			}
			if ok != tt.wantOK || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("since(%d) = %v, %v; want %v, %v", tt.since, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// ---------------------------------------------------------------------------------------
// End to end through client-go: object semantics.
// ---------------------------------------------------------------------------------------

// TestResourceVersionEndToEnd: one resourceVersion per cluster, increasing across kinds,
// stamped into objects and into the list metadata of every kind; other clusters of the same
// server are unaffected.
func TestResourceVersionEndToEnd(t *testing.T) {
	ctx := context.Background()
	cA, _, a := stCluster(t, 0)
	cB, _, b := stCluster(t, 0)
	bList, err := b.CoreV1().ConfigMaps("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bRV := stListRV(t, bList)

	var last uint64
	writes := []struct {
		name string
		do   func() (runtime.Object, error)
	}{
		{"create configmap", func() (runtime.Object, error) {
			return a.CoreV1().ConfigMaps("ns-a").Create(ctx, stConfigMap("", "cm", nil, "k", "v"), metav1.CreateOptions{})
		}},
		{"create secret", func() (runtime.Object, error) {
			return a.CoreV1().Secrets("ns-b").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s"}}, metav1.CreateOptions{})
		}},
		{"create deployment", func() (runtime.Object, error) {
			return a.AppsV1().Deployments("ns-a").Create(ctx, stDeployment("web", 1), metav1.CreateOptions{})
		}},
		{"create namespace", func() (runtime.Object, error) {
			return a.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ns-new"}}, metav1.CreateOptions{})
		}},
		{"update configmap", func() (runtime.Object, error) {
			cm, err := a.CoreV1().ConfigMaps("ns-a").Get(ctx, "cm", metav1.GetOptions{})
			if err != nil {
				return nil, err
			}
			cm.Data["k"] = "v2"
			return a.CoreV1().ConfigMaps("ns-a").Update(ctx, cm, metav1.UpdateOptions{})
		}},
	}
	for _, w := range writes {
		obj, err := w.do()
		if err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		rv := stRV(t, obj)
		if rv <= last {
			t.Errorf("%s: resourceVersion %d not above the previous write's %d", w.name, rv, last)
		}
		last = rv
	}
	if got := cA.Store().ResourceVersion(); got != last {
		t.Errorf("cluster resourceVersion %d, want the last write's %d", got, last)
	}
	lists := []struct {
		name string
		list func() (runtime.Object, error)
	}{
		{"configmaps", func() (runtime.Object, error) { return a.CoreV1().ConfigMaps("").List(ctx, metav1.ListOptions{}) }},
		{"configmaps in ns-b (none there)", func() (runtime.Object, error) { return a.CoreV1().ConfigMaps("ns-b").List(ctx, metav1.ListOptions{}) }},
		{"secrets", func() (runtime.Object, error) { return a.CoreV1().Secrets("").List(ctx, metav1.ListOptions{}) }},
		{"pods (never written)", func() (runtime.Object, error) { return a.CoreV1().Pods("").List(ctx, metav1.ListOptions{}) }},
		{"namespaces", func() (runtime.Object, error) { return a.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}) }},
		{"deployments", func() (runtime.Object, error) { return a.AppsV1().Deployments("").List(ctx, metav1.ListOptions{}) }},
	}
	for _, l := range lists {
		obj, err := l.list()
		if err != nil {
			t.Fatalf("list %s: %v", l.name, err)
		}
		if got := stListRV(t, obj); got != last {
			t.Errorf("list %s: resourceVersion %d, want %d", l.name, got, last)
		}
	}
	got, err := a.CoreV1().ConfigMaps("ns-a").Get(ctx, "cm", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if stRV(t, got) != last {
		t.Errorf("get: resourceVersion %s, want %d", got.ResourceVersion, last)
	}
	bList, err = b.CoreV1().ConfigMaps("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if stListRV(t, bList) != bRV || cB.Store().ResourceVersion() != bRV {
		t.Errorf("cluster B moved from resourceVersion %d to %s/%d on writes to cluster A", bRV, bList.ResourceVersion, cB.Store().ResourceVersion())
	}
	if _, err := b.CoreV1().ConfigMaps("ns-a").Get(ctx, "cm", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("cluster B sees cluster A's configmap: %v", err)
	}
}

func stDeployment(name string, replicas int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx:1"}}},
			},
		},
	}
}

// TestCreateSystemMetadata: the server assigns uid and creationTimestamp (overriding what
// the client sent) and generates names from generateName.
func TestCreateSystemMetadata(t *testing.T) {
	ctx := context.Background()
	_, _, cs := stCluster(t, 0)
	// names.SimpleNameGenerator: five characters from this alphabet.
	const gen = `[bcdfghjklmnpqrstvwxz2456789]{5}`
	tests := []struct {
		name     string
		meta     metav1.ObjectMeta
		wantName string // a regular expression
	}{
		{"explicit name", metav1.ObjectMeta{Name: "fixed"}, `^fixed$`},
		{"generateName with dash", metav1.ObjectMeta{GenerateName: "foo-"}, `^foo-` + gen + `$`},
		{"generateName without dash", metav1.ObjectMeta{GenerateName: "bar"}, `^bar` + gen + `$`},
		{"name wins over generateName", metav1.ObjectMeta{Name: "named", GenerateName: "foo-"}, `^named$`},
		{"client uid and creationTimestamp are replaced", metav1.ObjectMeta{Name: "spoofed", UID: "client-uid",
			CreationTimestamp: metav1.NewTime(time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC))}, `^spoofed$`},
	}
	seen := map[types.UID]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := time.Now().Add(-time.Second).Truncate(time.Second)
			cm, err := cs.CoreV1().ConfigMaps("ns-a").Create(ctx, &corev1.ConfigMap{ObjectMeta: tt.meta}, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			after := time.Now().Add(time.Second)
			if !regexp.MustCompile(tt.wantName).MatchString(cm.Name) {
				t.Errorf("name %q does not match %s", cm.Name, tt.wantName)
			}
			if tt.meta.GenerateName != "" && cm.GenerateName != tt.meta.GenerateName {
				t.Errorf("generateName = %q, want %q kept", cm.GenerateName, tt.meta.GenerateName)
			}
			if _, err := uuid.Parse(string(cm.UID)); err != nil || seen[cm.UID] {
				t.Errorf("uid %q is not a fresh UUID (parse error %v, seen %v)", cm.UID, err, seen[cm.UID])
			}
			seen[cm.UID] = true
			if ts := cm.CreationTimestamp.Time; ts.Before(before) || ts.After(after) {
				t.Errorf("creationTimestamp %s not within [%s, %s]", ts, before, after)
			}
			got, err := cs.CoreV1().ConfigMaps("ns-a").Get(ctx, cm.Name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got.UID != cm.UID || !got.CreationTimestamp.Equal(&cm.CreationTimestamp) || got.ResourceVersion != cm.ResourceVersion {
				t.Errorf("stored metadata %v differs from the create response %v", got.ObjectMeta, cm.ObjectMeta)
			}
		})
	}
}

// TestGeneration: metadata.generation of a Deployment is 1 on create and is bumped by
// changes to spec (and, for Deployments, to annotations, which are copied to ReplicaSets),
// but not by label changes, no-op updates, status updates; ConfigMaps have no generation.
func TestGeneration(t *testing.T) {
	ctx := context.Background()
	_, _, cs := stCluster(t, 0)
	deps := cs.AppsV1().Deployments("ns-a")
	d, err := deps.Create(ctx, stDeployment("web", 1), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Generation != 1 {
		t.Fatalf("generation on create = %d, want 1", d.Generation)
	}
	steps := []struct {
		name     string
		mutate   func(*appsv1.Deployment)
		status   bool // through the status subresource
		wantBump bool
	}{
		{"label change", func(d *appsv1.Deployment) { d.Labels = map[string]string{"team": "a"} }, false, false},
		{"no-op update", func(*appsv1.Deployment) {}, false, false},
		{"annotation change", func(d *appsv1.Deployment) { d.Annotations = map[string]string{"note": "x"} }, false, true},
		{"spec.replicas change", func(d *appsv1.Deployment) { r := int32(3); d.Spec.Replicas = &r }, false, true},
		{"pod template change", func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "nginx:2" }, false, true},
		{"status change through main resource", func(d *appsv1.Deployment) { d.Status.Replicas = 7 }, false, false},
		{"status update", func(d *appsv1.Deployment) { d.Status.ObservedGeneration = d.Generation; d.Status.Replicas = 3 }, true, false},
		{"label and spec change", func(d *appsv1.Deployment) {
			d.Labels = map[string]string{"team": "b"}
			d.Spec.MinReadySeconds = 5
		}, false, true},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			cur, err := deps.Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			st.mutate(cur)
			var out *appsv1.Deployment
			if st.status {
				out, err = deps.UpdateStatus(ctx, cur, metav1.UpdateOptions{})
			} else {
				out, err = deps.Update(ctx, cur, metav1.UpdateOptions{})
			}
			if err != nil {
				t.Fatal(err)
			}
			want := cur.Generation
			if st.wantBump {
				want++
			}
			if out.Generation != want {
				t.Errorf("generation %d -> %d, want %d", cur.Generation, out.Generation, want)
			}
		})
	}
	cm, err := cs.CoreV1().ConfigMaps("ns-a").Create(ctx, stConfigMap("", "cm", nil, "k", "v"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm.Data["k"] = "v2"
	if cm, err = cs.CoreV1().ConfigMaps("ns-a").Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if cm.Generation != 0 {
		t.Errorf("configmap generation = %d, want 0 (not tracked)", cm.Generation)
	}
}

// TestGenerationOnCreate: which kinds' registries track metadata.generation (1 on create)
// and which leave it unset, as in Kubernetes 1.36.
func TestGenerationOnCreate(t *testing.T) {
	ctx := context.Background()
	_, _, cs := stCluster(t, 0)
	port := int32(80)
	tests := []struct {
		kind   string
		create func() (metav1.Object, error)
		want   int64
	}{
		{"Deployment", func() (metav1.Object, error) {
			return cs.AppsV1().Deployments("ns-a").Create(ctx, stDeployment("gen", 1), metav1.CreateOptions{})
		}, 1},
		{"Pod", func() (metav1.Object, error) {
			return cs.CoreV1().Pods("ns-a").Create(ctx, stPod("", "gen", nil), metav1.CreateOptions{})
		}, 1},
		{"PodTemplate", func() (metav1.Object, error) {
			return cs.CoreV1().PodTemplates("ns-a").Create(ctx, &corev1.PodTemplate{ObjectMeta: metav1.ObjectMeta{Name: "gen"},
				Template: corev1.PodTemplateSpec{Spec: stPod("", "", nil).Spec}}, metav1.CreateOptions{})
		}, 1},
		{"PriorityClass", func() (metav1.Object, error) {
			return cs.SchedulingV1().PriorityClasses().Create(ctx, &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "gen"}, Value: 10}, metav1.CreateOptions{})
		}, 1},
		{"IngressClass", func() (metav1.Object, error) {
			return cs.NetworkingV1().IngressClasses().Create(ctx, &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "gen"},
				Spec: networkingv1.IngressClassSpec{Controller: "example.com/ingress"}}, metav1.CreateOptions{})
		}, 1},
		{"EndpointSlice", func() (metav1.Object, error) {
			return cs.DiscoveryV1().EndpointSlices("ns-a").Create(ctx, &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: "gen"},
				AddressType: discoveryv1.AddressTypeIPv4, Ports: []discoveryv1.EndpointPort{{Port: &port}}}, metav1.CreateOptions{})
		}, 1},
		{"ValidatingWebhookConfiguration", func() (metav1.Object, error) {
			return cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx,
				&admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "gen"}}, metav1.CreateOptions{})
		}, 1},
		{"HorizontalPodAutoscaler", func() (metav1.Object, error) {
			return cs.AutoscalingV2().HorizontalPodAutoscalers("ns-a").Create(ctx, &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "gen"},
				Spec: autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: "gen", APIVersion: "apps/v1"},
					MinReplicas: stPtr32(1), MaxReplicas: 2}}, metav1.CreateOptions{})
		}, 0},
		{"ConfigMap", func() (metav1.Object, error) {
			return cs.CoreV1().ConfigMaps("ns-a").Create(ctx, stConfigMap("", "gen", nil), metav1.CreateOptions{})
		}, 0},
		{"Service", func() (metav1.Object, error) {
			return cs.CoreV1().Services("ns-a").Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "gen"},
				Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}, metav1.CreateOptions{})
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			obj, err := tt.create()
			if err != nil {
				t.Fatal(err)
			}
			if obj.GetGeneration() != tt.want {
				t.Errorf("generation %d on create, want %d", obj.GetGeneration(), tt.want)
			}
		})
	}
}

// TestNoopUpdate: an update that changes nothing is not written: same resourceVersion, no
// watch event, the cluster's resourceVersion does not move.
func TestNoopUpdate(t *testing.T) {
	ctx := context.Background()
	c, _, cs := stCluster(t, 0)
	cm, err := cs.CoreV1().ConfigMaps("ns-a").Create(ctx, stConfigMap("", "cm", map[string]string{"a": "b"}, "k", "v", "k2", "v2"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := cs.AppsV1().Deployments("ns-a").Create(ctx, stDeployment("web", 1), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	start := c.Store().ResourceVersion()
	w, err := cs.CoreV1().ConfigMaps("").Watch(ctx, metav1.ListOptions{ResourceVersion: strconv.FormatUint(start, 10)})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	tests := []struct {
		name   string
		update func() (runtime.Object, error)
		wantRV string
	}{
		{"configmap unchanged", func() (runtime.Object, error) {
			return cs.CoreV1().ConfigMaps("ns-a").Update(ctx, cm.DeepCopy(), metav1.UpdateOptions{})
		}, cm.ResourceVersion},
		{"configmap unchanged, unconditional", func() (runtime.Object, error) {
			u := cm.DeepCopy()
			u.ResourceVersion = ""
			return cs.CoreV1().ConfigMaps("ns-a").Update(ctx, u, metav1.UpdateOptions{})
		}, cm.ResourceVersion},
		{"configmap unchanged, empty label map vs same labels", func() (runtime.Object, error) {
			u := cm.DeepCopy()
			u.Labels = map[string]string{"a": "b"}
			return cs.CoreV1().ConfigMaps("ns-a").Update(ctx, u, metav1.UpdateOptions{})
		}, cm.ResourceVersion},
		{"deployment unchanged", func() (runtime.Object, error) {
			return cs.AppsV1().Deployments("ns-a").Update(ctx, d.DeepCopy(), metav1.UpdateOptions{})
		}, d.ResourceVersion},
		{"deployment status unchanged through status", func() (runtime.Object, error) {
			return cs.AppsV1().Deployments("ns-a").UpdateStatus(ctx, d.DeepCopy(), metav1.UpdateOptions{})
		}, d.ResourceVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj, err := tt.update()
			if err != nil {
				t.Fatal(err)
			}
			if got := strconv.FormatUint(stRV(t, obj), 10); got != tt.wantRV {
				t.Errorf("resourceVersion %s after a no-op update, want %s", got, tt.wantRV)
			}
		})
	}
	if got := c.Store().ResourceVersion(); got != start {
		t.Errorf("cluster resourceVersion moved from %d to %d", start, got)
	}
	if ev, ok := stNext(t, w, 300*time.Millisecond); ok {
		t.Errorf("no-op updates produced a watch event: %v", stDescribe(ev))
	}
}

// TestOptimisticConcurrency: updates carrying a resourceVersion are compare-and-swap and
// fail with the real 409; an empty resourceVersion is an unconditional update.
func TestOptimisticConcurrency(t *testing.T) {
	ctx := context.Background()
	_, _, cs := stCluster(t, 0)
	cms := cs.CoreV1().ConfigMaps("ns-a")
	tests := []struct {
		name     string
		rv       func(created, current string) string
		wantCode int32 // 0: success
	}{
		{"current resourceVersion", func(_, cur string) string { return cur }, 0},
		{"empty resourceVersion (unconditional)", func(string, string) string { return "" }, 0},
		{"stale resourceVersion", func(created, _ string) string { return created }, 409},
		{"resourceVersion from the future", func(_, cur string) string {
			n, _ := strconv.ParseUint(cur, 10, 64)
			return strconv.FormatUint(n+100, 10)
		}, 409},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := fmt.Sprintf("x%d", i)
			created, err := cms.Create(ctx, stConfigMap("", name, nil, "k", "0"), metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			cur := created.DeepCopy()
			cur.Data["k"] = "1"
			if cur, err = cms.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
			u := cur.DeepCopy()
			u.Data["k"] = "2"
			u.ResourceVersion = tt.rv(created.ResourceVersion, cur.ResourceVersion)
			out, err := cms.Update(ctx, u, metav1.UpdateOptions{})
			if tt.wantCode == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if out.Data["k"] != "2" || stRV(t, out) <= stRV(t, cur) {
					t.Errorf("update result %v at %s, want k=2 at a resourceVersion above %s", out.Data, out.ResourceVersion, cur.ResourceVersion)
				}
				return
			}
			want := fmt.Sprintf("Operation cannot be fulfilled on configmaps %q: the object has been modified; please apply your changes to the latest version and try again", name)
			var se *apierrors.StatusError
			if !errors.As(err, &se) || se.ErrStatus.Code != tt.wantCode || se.ErrStatus.Reason != metav1.StatusReasonConflict || se.ErrStatus.Message != want {
				t.Fatalf("got %v, want %d Conflict %q", err, tt.wantCode, want)
			}
			if d := se.ErrStatus.Details; d == nil || d.Name != name || d.Kind != "configmaps" {
				t.Errorf("conflict details %+v, want name %s kind configmaps", d, name)
			}
			got, err := cms.Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got.Data["k"] != "1" || got.ResourceVersion != cur.ResourceVersion {
				t.Errorf("conflicting update changed the object: %v at %s", got.Data, got.ResourceVersion)
			}
		})
	}
}

// TestConcurrentUpdatesLoseNothing: read-modify-write loops with RetryOnConflict from many
// clients; compare-and-swap means no increment is lost.
func TestConcurrentUpdatesLoseNothing(t *testing.T) {
	ctx := context.Background()
	_, _, cs := stCluster(t, 0)
	cms := cs.CoreV1().ConfigMaps("ns-a")
	if _, err := cms.Create(ctx, stConfigMap("", "counter", nil, "n", "0"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	const workers, each = 6, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				err := retry.RetryOnConflict(stManyRetries, func() error {
					cm, err := cms.Get(ctx, "counter", metav1.GetOptions{})
					if err != nil {
						return err
					}
					n, _ := strconv.Atoi(cm.Data["n"])
					cm.Data["n"] = strconv.Itoa(n + 1)
					_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
					return err
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	cm, err := cms.Get(ctx, "counter", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cm.Data["n"] != strconv.Itoa(workers*each) {
		t.Errorf("counter = %s, want %d", cm.Data["n"], workers*each)
	}
}

// TestDeletePreconditions: uid and resourceVersion preconditions on DELETE, with the real
// 409 messages (generic registry for configmaps, the namespace registry's own for namespaces).
func TestDeletePreconditions(t *testing.T) {
	ctx := context.Background()
	_, _, cs := stCluster(t, 0)
	type target struct {
		uid, rv string
		del     func(metav1.DeleteOptions) error
		get     func() error
	}
	newConfigMap := func(t *testing.T, name string) target {
		cm, err := cs.CoreV1().ConfigMaps("ns-a").Create(ctx, stConfigMap("", name, nil), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return target{string(cm.UID), cm.ResourceVersion,
			func(o metav1.DeleteOptions) error { return cs.CoreV1().ConfigMaps("ns-a").Delete(ctx, name, o) },
			func() error { _, err := cs.CoreV1().ConfigMaps("ns-a").Get(ctx, name, metav1.GetOptions{}); return err }}
	}
	newNamespace := func(t *testing.T, name string) target {
		ns, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return target{string(ns.UID), ns.ResourceVersion,
			func(o metav1.DeleteOptions) error { return cs.CoreV1().Namespaces().Delete(ctx, name, o) },
			func() error {
				ns, err := cs.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
				if err == nil && ns.DeletionTimestamp == nil {
					return fmt.Errorf("namespace %s not being deleted", name)
				}
				return nil
			}}
	}
	tests := []struct {
		name    string
		newObj  func(*testing.T, string) target
		uid, rv func(target) *string // nil: no such precondition
		wantMsg func(name string, tg target) string
	}{
		{name: "configmap, matching uid", newObj: newConfigMap, uid: func(tg target) *string { return &tg.uid }},
		{name: "configmap, matching resourceVersion", newObj: newConfigMap, rv: func(tg target) *string { return &tg.rv }},
		{name: "configmap, both matching", newObj: newConfigMap, uid: func(tg target) *string { return &tg.uid }, rv: func(tg target) *string { return &tg.rv }},
		{name: "configmap, wrong uid", newObj: newConfigMap, uid: func(target) *string { s := "bogus-uid"; return &s },
			wantMsg: func(name string, tg target) string {
				return fmt.Sprintf("Operation cannot be fulfilled on ConfigMap %q: the UID in the precondition (bogus-uid) does not match the UID in record (%s). The object might have been deleted and then recreated", name, tg.uid)
			}},
		{name: "configmap, stale resourceVersion", newObj: newConfigMap, rv: func(target) *string { s := "1"; return &s },
			wantMsg: func(name string, tg target) string {
				return fmt.Sprintf("Operation cannot be fulfilled on ConfigMap %q: the ResourceVersion in the precondition (1) does not match the ResourceVersion in record (%s). The object might have been modified", name, tg.rv)
			}},
		{name: "namespace, matching uid", newObj: newNamespace, uid: func(tg target) *string { return &tg.uid }},
		{name: "namespace, wrong uid", newObj: newNamespace, uid: func(target) *string { s := "bogus-uid"; return &s },
			wantMsg: func(name string, tg target) string {
				return fmt.Sprintf("Operation cannot be fulfilled on namespaces %q: Precondition failed: UID in precondition: bogus-uid, UID in object meta: %s", name, tg.uid)
			}},
		{name: "namespace, stale resourceVersion", newObj: newNamespace, rv: func(target) *string { s := "1"; return &s },
			wantMsg: func(name string, tg target) string {
				return fmt.Sprintf("Operation cannot be fulfilled on namespaces %q: Precondition failed: ResourceVersion in precondition: 1, ResourceVersion in object meta: %s", name, tg.rv)
			}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := fmt.Sprintf("pre-%d", i)
			tg := tt.newObj(t, name)
			pre := &metav1.Preconditions{}
			if tt.uid != nil {
				u := types.UID(*tt.uid(tg))
				pre.UID = &u
			}
			if tt.rv != nil {
				pre.ResourceVersion = tt.rv(tg)
			}
			err := tg.del(metav1.DeleteOptions{Preconditions: pre})
			if tt.wantMsg == nil {
				if err != nil {
					t.Fatal(err)
				}
				if err := tg.get(); err != nil && !apierrors.IsNotFound(err) {
					t.Errorf("after delete: %v", err)
				}
				return
			}
			want := tt.wantMsg(name, tg)
			if !apierrors.IsConflict(err) || err.Error() != want {
				t.Fatalf("got %v\nwant 409 %q", err, want)
			}
		})
	}
}

// TestFinalizers: deleting an object with a finalizer only marks it (deletionTimestamp, grace
// period 0); removing the last finalizer deletes it. A watch sees MODIFIED, then DELETED.
func TestFinalizers(t *testing.T) {
	ctx := context.Background()
	c, _, cs := stCluster(t, 0)
	cms := cs.CoreV1().ConfigMaps("ns-a")
	cm := stConfigMap("", "held", nil, "k", "v")
	cm.Finalizers = []string{"example.com/hold"}
	created, err := cms.Create(ctx, cm, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: created.ResourceVersion, FieldSelector: "metadata.name=held"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	if err := cms.Delete(ctx, "held", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	marked, err := cms.Get(ctx, "held", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("object with a finalizer is gone after delete: %v", err)
	}
	if marked.DeletionTimestamp == nil || marked.DeletionGracePeriodSeconds == nil || *marked.DeletionGracePeriodSeconds != 0 {
		t.Errorf("deletionTimestamp %v, deletionGracePeriodSeconds %v; want set and 0", marked.DeletionTimestamp, marked.DeletionGracePeriodSeconds)
	}
	if !reflect.DeepEqual(marked.Finalizers, []string{"example.com/hold"}) || marked.Data["k"] != "v" {
		t.Errorf("marked object %v lost finalizers or data", marked)
	}

	rvBefore := c.Store().ResourceVersion()
	if err := cms.Delete(ctx, "held", metav1.DeleteOptions{}); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	if got := c.Store().ResourceVersion(); got != rvBefore {
		t.Errorf("second delete wrote (resourceVersion %d -> %d)", rvBefore, got)
	}

	adding := marked.DeepCopy()
	adding.Finalizers = append(adding.Finalizers, "example.com/other")
	_, err = cms.Update(ctx, adding, metav1.UpdateOptions{})
	wantInvalid := `ConfigMap "held" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"example.com/other"}`
	if !apierrors.IsInvalid(err) || err.Error() != wantInvalid {
		t.Errorf("adding a finalizer while deleting: got %v, want 422 %q", err, wantInvalid)
	}

	release := marked.DeepCopy()
	release.Finalizers = nil
	if _, err := cms.Update(ctx, release, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Get(ctx, "held", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("after removing the last finalizer: got %v, want NotFound", err)
	}
	evs := stCollect(t, w, 2, 5*time.Second)
	if evs[0].Type != watch.Modified || evs[0].Object.(*corev1.ConfigMap).DeletionTimestamp == nil {
		t.Errorf("first event %v, want MODIFIED with deletionTimestamp", stDescribe(evs[0]))
	}
	if evs[1].Type != watch.Deleted || stDescribe(evs[1]).Key != "ns-a/held" {
		t.Errorf("second event %v, want DELETED ns-a/held", stDescribe(evs[1]))
	}
	if stRV(t, evs[1].Object) <= stRV(t, evs[0].Object) {
		t.Errorf("DELETED at %d not after MODIFIED at %d", stRV(t, evs[1].Object), stRV(t, evs[0].Object))
	}
	if ev, ok := stNext(t, w, 300*time.Millisecond); ok {
		t.Errorf("unexpected event %v", stDescribe(ev))
	}
}

// TestNamespaceTermination: DELETE marks a namespace Terminating, new content is refused,
// the contents are removed and then the namespace; a metadata finalizer keeps it
// Terminating (with its contents gone) until removed.
func TestNamespaceTermination(t *testing.T) {
	ctx := context.Background()
	_, _, cs := stCluster(t, 0)
	if _, err := cs.CoreV1().ConfigMaps("ns-a").Create(ctx, stConfigMap("", "bystander", nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		finalizers []string
	}{
		{"no metadata finalizers", nil},
		{"metadata finalizer", []string{"example.com/hold"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := fmt.Sprintf("doomed-%d", i)
			if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Finalizers: tt.finalizers}}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			for j := 0; j < 3; j++ {
				if _, err := cs.CoreV1().ConfigMaps(name).Create(ctx, stConfigMap("", fmt.Sprintf("cm-%d", j), nil), metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := cs.CoreV1().Secrets(name).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s"}}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := cs.AppsV1().Deployments(name).Create(ctx, stDeployment("web", 1), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}

			if err := cs.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			ns, err := cs.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatalf("namespace gone right after delete: %v", err)
			}
			if ns.Status.Phase != corev1.NamespaceTerminating || ns.DeletionTimestamp == nil {
				t.Errorf("phase %q deletionTimestamp %v, want Terminating and set", ns.Status.Phase, ns.DeletionTimestamp)
			}
			if ns.DeletionGracePeriodSeconds != nil {
				t.Errorf("deletionGracePeriodSeconds = %d, want unset as the namespace registry leaves it", *ns.DeletionGracePeriodSeconds)
			}
			_, err = cs.CoreV1().ConfigMaps(name).Create(ctx, stConfigMap("", "late", nil), metav1.CreateOptions{})
			wantForbidden := fmt.Sprintf(`configmaps "late" is forbidden: unable to create new content in namespace %s because it is being terminated`, name)
			if !apierrors.IsForbidden(err) || err.Error() != wantForbidden {
				t.Errorf("create in terminating namespace: got %v, want 403 %q", err, wantForbidden)
			}
			if err := cs.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				t.Errorf("second delete: %v", err)
			}

			empty := func() bool {
				cms, err1 := cs.CoreV1().ConfigMaps(name).List(ctx, metav1.ListOptions{})
				secs, err2 := cs.CoreV1().Secrets(name).List(ctx, metav1.ListOptions{})
				deps, err3 := cs.AppsV1().Deployments(name).List(ctx, metav1.ListOptions{})
				return err1 == nil && err2 == nil && err3 == nil && len(cms.Items)+len(secs.Items)+len(deps.Items) == 0
			}
			stEventually(t, 5*time.Second, "namespace contents removed", empty)
			if len(tt.finalizers) == 0 {
				stEventually(t, 5*time.Second, "namespace removed", func() bool {
					_, err := cs.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
					return apierrors.IsNotFound(err)
				})
			} else {
				stEventually(t, 5*time.Second, "spec.finalizers emptied", func() bool {
					ns, err := cs.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
					return err == nil && len(ns.Spec.Finalizers) == 0
				})
				time.Sleep(300 * time.Millisecond)
				ns, err := cs.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
				if err != nil {
					t.Fatalf("namespace with a metadata finalizer was removed: %v", err)
				}
				if ns.Status.Phase != corev1.NamespaceTerminating || !reflect.DeepEqual(ns.Finalizers, tt.finalizers) {
					t.Errorf("held namespace: phase %q finalizers %v", ns.Status.Phase, ns.Finalizers)
				}
				ns.Finalizers = nil
				if _, err := cs.CoreV1().Namespaces().Update(ctx, ns, metav1.UpdateOptions{}); err != nil {
					t.Fatal(err)
				}
				stEventually(t, 5*time.Second, "namespace removed after its finalizer", func() bool {
					_, err := cs.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
					return apierrors.IsNotFound(err)
				})
			}
		})
	}
	if _, err := cs.CoreV1().ConfigMaps("ns-a").Get(ctx, "bystander", metav1.GetOptions{}); err != nil {
		t.Errorf("content of another namespace was touched: %v", err)
	}
}

// TestTokenController: a service-account token Secret is filled by the token controller;
// its token authenticates as the service account. Token Secrets of missing service accounts,
// or of a service account with another uid, are deleted, as are the token Secrets of a
// deleted service account.
func TestTokenController(t *testing.T) {
	ctx := context.Background()
	_, cfg, cs := stCluster(t, 0)
	ca := stSharedServer(t, 0).ca
	sa, err := cs.CoreV1().ServiceAccounts("ns-a").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "builder"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tokenSecret := func(name string, ann map[string]string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: ann}, Type: corev1.SecretTypeServiceAccountToken}
	}
	created, err := cs.CoreV1().Secrets("ns-a").Create(ctx, tokenSecret("builder-token", map[string]string{corev1.ServiceAccountNameKey: "builder"}), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var filled *corev1.Secret
	stEventually(t, 5*time.Second, "token secret filled", func() bool {
		s, err := cs.CoreV1().Secrets("ns-a").Get(ctx, "builder-token", metav1.GetOptions{})
		if err == nil && len(s.Data[corev1.ServiceAccountTokenKey]) > 0 {
			filled = s
			return true
		}
		return false
	})
	if string(filled.Data[corev1.ServiceAccountRootCAKey]) != string(ca) {
		t.Errorf("ca.crt is not the cluster CA")
	}
	if string(filled.Data[corev1.ServiceAccountNamespaceKey]) != "ns-a" {
		t.Errorf("namespace = %q", filled.Data[corev1.ServiceAccountNamespaceKey])
	}
	if filled.Annotations[corev1.ServiceAccountUIDKey] != string(sa.UID) {
		t.Errorf("uid annotation %q, want %s", filled.Annotations[corev1.ServiceAccountUIDKey], sa.UID)
	}
	if stRV(t, filled) <= stRV(t, created) {
		t.Errorf("filling did not take a new resourceVersion (%s -> %s)", created.ResourceVersion, filled.ResourceVersion)
	}

	saCfg := rest.CopyConfig(cfg)
	saCfg.BearerToken = string(filled.Data[corev1.ServiceAccountTokenKey])
	saClient := kubernetes.NewForConfigOrDie(saCfg)
	ssr, err := saClient.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("token does not authenticate: %v", err)
	}
	u := ssr.Status.UserInfo
	if u.Username != "system:serviceaccount:ns-a:builder" || u.UID != string(sa.UID) {
		t.Errorf("authenticated as %s (uid %s), want system:serviceaccount:ns-a:builder (uid %s)", u.Username, u.UID, sa.UID)
	}
	for _, g := range []string{"system:serviceaccounts", "system:serviceaccounts:ns-a", "system:authenticated"} {
		if !stContains(u.Groups, g) {
			t.Errorf("groups %v lack %s", u.Groups, g)
		}
	}
	tr, err := cs.AuthenticationV1().TokenReviews().Create(ctx, &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: saCfg.BearerToken}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Status.Authenticated || tr.Status.User.Username != "system:serviceaccount:ns-a:builder" {
		t.Errorf("token review %+v", tr.Status)
	}
	badCfg := rest.CopyConfig(cfg)
	badCfg.BearerToken = "not-a-token"
	if _, err := kubernetes.NewForConfigOrDie(badCfg).CoreV1().ConfigMaps("ns-a").List(ctx, metav1.ListOptions{}); !apierrors.IsUnauthorized(err) {
		t.Errorf("unknown token: got %v, want 401", err)
	}

	deleted := []struct {
		name   string
		secret *corev1.Secret
		then   func() error
	}{
		{"service account missing", tokenSecret("ghost-token", map[string]string{corev1.ServiceAccountNameKey: "ghost"}), nil},
		{"service account uid differs", tokenSecret("stale-token", map[string]string{corev1.ServiceAccountNameKey: "builder", corev1.ServiceAccountUIDKey: "0000-other"}), nil},
		{"service account deleted", tokenSecret("deployer-token", map[string]string{corev1.ServiceAccountNameKey: "deployer"}), func() error {
			return cs.CoreV1().ServiceAccounts("ns-a").Delete(ctx, "deployer", metav1.DeleteOptions{})
		}},
	}
	if _, err := cs.CoreV1().ServiceAccounts("ns-a").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "deployer"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range deleted {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := cs.CoreV1().Secrets("ns-a").Create(ctx, tt.secret, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			if tt.then != nil {
				stEventually(t, 5*time.Second, "token secret filled", func() bool {
					s, err := cs.CoreV1().Secrets("ns-a").Get(ctx, tt.secret.Name, metav1.GetOptions{})
					return err == nil && len(s.Data[corev1.ServiceAccountTokenKey]) > 0
				})
				if err := tt.then(); err != nil {
					t.Fatal(err)
				}
			}
			stEventually(t, 5*time.Second, "token secret deleted", func() bool {
				_, err := cs.CoreV1().Secrets("ns-a").Get(ctx, tt.secret.Name, metav1.GetOptions{})
				return apierrors.IsNotFound(err)
			})
		})
	}
}

// stManyRetries is a conflict retry budget for heavily contended read-modify-write loops.
var stManyRetries = wait.Backoff{Steps: 1000, Duration: time.Millisecond, Factor: 1, Jitter: 1}

func stContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestScaleSubresource: autoscaling/v1 Scale of workloads: read, write replicas (>= 0),
// compare-and-swap on the workload's resourceVersion.
func TestScaleSubresource(t *testing.T) {
	ctx := context.Background()
	_, _, cs := stCluster(t, 0)
	deps := cs.AppsV1().Deployments("ns-a")
	d, err := deps.Create(ctx, stDeployment("web", 2), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sc, err := deps.GetScale(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sc.Name != "web" || sc.Namespace != "ns-a" || sc.UID != d.UID || sc.ResourceVersion != d.ResourceVersion ||
		sc.Spec.Replicas != 2 || sc.Status.Selector != "app=web" || !sc.CreationTimestamp.Equal(&d.CreationTimestamp) {
		t.Errorf("scale %+v does not reflect deployment %s/%s rv %s replicas 2", sc, d.Namespace, d.Name, d.ResourceVersion)
	}

	tests := []struct {
		name     string
		target   string
		replicas int32
		rv       func(current, stale string) string
		wantErr  string // the exact error message; "" for success
		wantCode int32
	}{
		{name: "scale up", target: "web", replicas: 5, rv: func(c, _ string) string { return c }},
		{name: "scale to zero", target: "web", replicas: 0, rv: func(c, _ string) string { return c }},
		{name: "unconditional", target: "web", replicas: 3, rv: func(string, string) string { return "" }},
		{name: "negative replicas", target: "web", replicas: -1, rv: func(c, _ string) string { return c }, wantCode: 422,
			wantErr: `Scale.autoscaling "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0`},
		{name: "stale resourceVersion", target: "web", replicas: 4, rv: func(_, s string) string { return s }, wantCode: 409,
			wantErr: `Operation cannot be fulfilled on deployments.apps "web": the object has been modified; please apply your changes to the latest version and try again`},
		{name: "missing deployment", target: "nope", replicas: 1, rv: func(string, string) string { return "" }, wantCode: 404,
			wantErr: `deployments.apps "nope" not found`},
	}
	stale := d.ResourceVersion
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, err := deps.Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			in := &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: tt.target, Namespace: "ns-a", ResourceVersion: tt.rv(before.ResourceVersion, stale)},
				Spec: autoscalingv1.ScaleSpec{Replicas: tt.replicas}}
			out, err := deps.UpdateScale(ctx, tt.target, in, metav1.UpdateOptions{})
			after, gerr := deps.Get(ctx, "web", metav1.GetOptions{})
			if gerr != nil {
				t.Fatal(gerr)
			}
			if tt.wantErr != "" {
				var se *apierrors.StatusError
				if !errors.As(err, &se) || se.ErrStatus.Code != tt.wantCode || err.Error() != tt.wantErr {
					t.Fatalf("got %v, want %d %q", err, tt.wantCode, tt.wantErr)
				}
				if after.ResourceVersion != before.ResourceVersion {
					t.Errorf("failed scale wrote the deployment")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out.Spec.Replicas != tt.replicas || out.ResourceVersion != after.ResourceVersion {
				t.Errorf("scale response replicas %d rv %s; deployment rv %s", out.Spec.Replicas, out.ResourceVersion, after.ResourceVersion)
			}
			if after.Spec.Replicas == nil || *after.Spec.Replicas != tt.replicas {
				t.Errorf("deployment spec.replicas = %v, want %d", after.Spec.Replicas, tt.replicas)
			}
			if after.Generation != before.Generation+1 {
				t.Errorf("generation %d -> %d, want a bump", before.Generation, after.Generation)
			}
		})
	}

	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db"}, Spec: appsv1.StatefulSetSpec{
		Replicas: stPtr32(1), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "db"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "db"}}}}}}
	if _, err := cs.AppsV1().StatefulSets("ns-a").Create(ctx, sts, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ssc, err := cs.AppsV1().StatefulSets("ns-a").GetScale(ctx, "db", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ssc.Spec.Replicas = 4
	if _, err := cs.AppsV1().StatefulSets("ns-a").UpdateScale(ctx, "db", ssc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := cs.AppsV1().StatefulSets("ns-a").Get(ctx, "db", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *got.Spec.Replicas != 4 {
		t.Errorf("statefulset replicas %d, want 4", *got.Spec.Replicas)
	}
}

func stPtr32(i int32) *int32 { return &i }

// TestStatusSubresource: the status subresource changes only status (and, as in the real
// registries, the metadata those registries let it change); the main resource never changes
// status.
func TestStatusSubresource(t *testing.T) {
	ctx := context.Background()
	_, _, cs := stCluster(t, 0)
	deps := cs.AppsV1().Deployments("ns-a")
	pods := cs.CoreV1().Pods("ns-a")
	if _, err := deps.Create(ctx, stDeployment("web", 1), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Create(ctx, stPod("", "p", map[string]string{"app": "p"}), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		write func() error
		check func(t *testing.T)
	}{
		{"deployment status update ignores spec and labels", func() error {
			d, err := deps.Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				return err
			}
			d.Spec.Replicas = stPtr32(9)
			d.Labels = map[string]string{"sneaky": "label"}
			d.Status.Replicas, d.Status.ReadyReplicas = 1, 1
			_, err = deps.UpdateStatus(ctx, d, metav1.UpdateOptions{})
			return err
		}, func(t *testing.T) {
			d, _ := deps.Get(ctx, "web", metav1.GetOptions{})
			if *d.Spec.Replicas != 1 || d.Labels["sneaky"] != "" {
				t.Errorf("status update changed spec.replicas to %d / labels to %v", *d.Spec.Replicas, d.Labels)
			}
			if d.Status.Replicas != 1 || d.Status.ReadyReplicas != 1 {
				t.Errorf("status not written: %+v", d.Status)
			}
			if d.Generation != 1 {
				t.Errorf("generation %d, want 1", d.Generation)
			}
		}},
		{"deployment status update may change annotations", func() error {
			d, err := deps.Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				return err
			}
			d.Annotations = map[string]string{"deployment.kubernetes.io/revision": "1"}
			d.Status.ObservedGeneration = 1
			_, err = deps.UpdateStatus(ctx, d, metav1.UpdateOptions{})
			return err
		}, func(t *testing.T) {
			d, _ := deps.Get(ctx, "web", metav1.GetOptions{})
			if d.Annotations["deployment.kubernetes.io/revision"] != "1" {
				t.Errorf("annotations %v: the deployment status strategy keeps annotation changes", d.Annotations)
			}
			if d.Status.ObservedGeneration != 1 {
				t.Errorf("status %+v", d.Status)
			}
		}},
		{"deployment update ignores status", func() error {
			d, err := deps.Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				return err
			}
			d.Status.Replicas = 42
			d.Spec.Replicas = stPtr32(2)
			_, err = deps.Update(ctx, d, metav1.UpdateOptions{})
			return err
		}, func(t *testing.T) {
			d, _ := deps.Get(ctx, "web", metav1.GetOptions{})
			if d.Status.Replicas != 1 || *d.Spec.Replicas != 2 {
				t.Errorf("status.replicas %d spec.replicas %d, want 1 and 2", d.Status.Replicas, *d.Spec.Replicas)
			}
		}},
		{"pod status update ignores spec", func() error {
			p, err := pods.Get(ctx, "p", metav1.GetOptions{})
			if err != nil {
				return err
			}
			p.Spec.ActiveDeadlineSeconds = stPtr64(30)
			p.Status.Phase = corev1.PodRunning
			p.Status.PodIP = "10.0.0.1"
			_, err = pods.UpdateStatus(ctx, p, metav1.UpdateOptions{})
			return err
		}, func(t *testing.T) {
			p, _ := pods.Get(ctx, "p", metav1.GetOptions{})
			if p.Spec.ActiveDeadlineSeconds != nil || p.Status.Phase != corev1.PodRunning || p.Status.PodIP != "10.0.0.1" {
				t.Errorf("spec.activeDeadlineSeconds %v phase %s podIP %s", p.Spec.ActiveDeadlineSeconds, p.Status.Phase, p.Status.PodIP)
			}
		}},
		{"pod status update may change labels", func() error {
			p, err := pods.Get(ctx, "p", metav1.GetOptions{})
			if err != nil {
				return err
			}
			p.Labels["ready"] = "true"
			_, err = pods.UpdateStatus(ctx, p, metav1.UpdateOptions{})
			return err
		}, func(t *testing.T) {
			p, _ := pods.Get(ctx, "p", metav1.GetOptions{})
			if p.Labels["ready"] != "true" {
				t.Errorf("labels %v: the pod status strategy keeps label changes", p.Labels)
			}
		}},
		{"pod update ignores status", func() error {
			p, err := pods.Get(ctx, "p", metav1.GetOptions{})
			if err != nil {
				return err
			}
			p.Status.Phase = corev1.PodFailed
			p.Annotations = map[string]string{"a": "b"}
			_, err = pods.Update(ctx, p, metav1.UpdateOptions{})
			return err
		}, func(t *testing.T) {
			p, _ := pods.Get(ctx, "p", metav1.GetOptions{})
			if p.Status.Phase != corev1.PodRunning || p.Annotations["a"] != "b" {
				t.Errorf("phase %s annotations %v, want Running and a=b", p.Status.Phase, p.Annotations)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.write(); err != nil {
				t.Fatal(err)
			}
			tt.check(t)
		})
	}
}

func stPtr64(i int64) *int64 { return &i }

// TestHPAConversion: HorizontalPodAutoscalers are served as autoscaling/v1 and v2 over one
// stored object; v1's CPU target is v2's CPU utilization metric, and what v1 cannot express
// survives a v1 read-modify-write in the real round-trip annotations.
func TestHPAConversion(t *testing.T) {
	ctx := context.Background()
	_, _, cs := stCluster(t, 0)
	v1c, v2c := cs.AutoscalingV1().HorizontalPodAutoscalers("ns-a"), cs.AutoscalingV2().HorizontalPodAutoscalers("ns-a")
	ref := autoscalingv1.CrossVersionObjectReference{Kind: "Deployment", Name: "web", APIVersion: "apps/v1"}

	t.Run("v1 CPU target round trip", func(t *testing.T) {
		created, err := v1c.Create(ctx, &autoscalingv1.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "cpu"},
			Spec: autoscalingv1.HorizontalPodAutoscalerSpec{ScaleTargetRef: ref, MinReplicas: stPtr32(2), MaxReplicas: 5,
				TargetCPUUtilizationPercentage: stPtr32(70)}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		v2, err := v2c.Get(ctx, "cpu", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		wantMetrics := []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
			Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: stPtr32(70)}}}}
		if !reflect.DeepEqual(v2.Spec.Metrics, wantMetrics) {
			t.Errorf("v2 metrics %s, want %s", stJSON(v2.Spec.Metrics), stJSON(wantMetrics))
		}
		if v2.UID != created.UID || v2.ResourceVersion != created.ResourceVersion || *v2.Spec.MinReplicas != 2 || v2.Spec.MaxReplicas != 5 ||
			v2.Spec.ScaleTargetRef != autoscalingv2.CrossVersionObjectReference(ref) {
			t.Errorf("v2 view %s differs from the v1 object %s", stJSON(v2), stJSON(created))
		}
		v2.Spec.Metrics[0].Resource.Target.AverageUtilization = stPtr32(55)
		if _, err := v2c.Update(ctx, v2, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		back, err := v1c.Get(ctx, "cpu", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if back.Spec.TargetCPUUtilizationPercentage == nil || *back.Spec.TargetCPUUtilizationPercentage != 55 || len(back.Annotations) != 0 {
			t.Errorf("v1 view after v2 update: %s", stJSON(back))
		}
		// The real HPA registry does not track metadata.generation at all.
		if back.Generation != 0 || v2.Generation != 0 {
			t.Errorf("generation %d (v2 %d), want 0: HorizontalPodAutoscalers have no generation", back.Generation, v2.Generation)
		}
	})

	t.Run("v2-only fields survive a v1 update", func(t *testing.T) {
		window := int32(60)
		policy := autoscalingv2.MaxChangePolicySelect
		rules := &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: &window, SelectPolicy: &policy,
			Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PodsScalingPolicy, Value: 2, PeriodSeconds: 30}}}
		memory := autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
			Name: corev1.ResourceMemory, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: stPtr32(80)}}}
		in := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "mem"},
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: autoscalingv2.CrossVersionObjectReference(ref), MinReplicas: stPtr32(1), MaxReplicas: 4,
				Metrics:  []autoscalingv2.MetricSpec{memory},
				Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: rules, ScaleDown: rules.DeepCopy()}}}
		if _, err := v2c.Create(ctx, in, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		v1, err := v1c.Get(ctx, "mem", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if v1.Spec.TargetCPUUtilizationPercentage != nil {
			t.Errorf("v1 CPU target %d for a memory-only HPA", *v1.Spec.TargetCPUUtilizationPercentage)
		}
		for _, a := range []string{"autoscaling.alpha.kubernetes.io/metrics", "autoscaling.alpha.kubernetes.io/behavior"} {
			if v1.Annotations[a] == "" {
				t.Errorf("v1 view lacks the %s round-trip annotation: %v", a, v1.Annotations)
			}
		}
		v1.Spec.MaxReplicas = 10
		if _, err := v1c.Update(ctx, v1, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		v2, err := v2c.Get(ctx, "mem", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if v2.Spec.MaxReplicas != 10 {
			t.Errorf("maxReplicas %d, want 10", v2.Spec.MaxReplicas)
		}
		if !reflect.DeepEqual(v2.Spec.Metrics, []autoscalingv2.MetricSpec{memory}) || !reflect.DeepEqual(v2.Spec.Behavior, in.Spec.Behavior) {
			t.Errorf("after a v1 update: metrics %s behavior %s; want %s and %s", stJSON(v2.Spec.Metrics), stJSON(v2.Spec.Behavior),
				stJSON(in.Spec.Metrics), stJSON(in.Spec.Behavior))
		}
		for a := range v2.Annotations {
			if len(a) > len("autoscaling.alpha.kubernetes.io/") && a[:len("autoscaling.alpha.kubernetes.io/")] == "autoscaling.alpha.kubernetes.io/" {
				t.Errorf("v2 view carries round-trip annotation %s", a)
			}
		}
	})
}

func stJSON(v interface{}) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}
