package e2e

// client-go end-to-end tests: typed (protobuf), informer, watch, dynamic, metadata,
// server-side-apply, discovery and error behaviour of the simulated clusters, checked against
// what a real kube-apiserver v1.36 does. Each test starts its own in-process fleet.
//
// Run alone with: go test -count=1 -run 'ClientGo' ./test/e2e/ -v

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apimachinery/pkg/watch"
	applyappsv1 "k8s.io/client-go/applyconfigurations/apps/v1"
	applycorev1 "k8s.io/client-go/applyconfigurations/core/v1"
	applymetav1 "k8s.io/client-go/applyconfigurations/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	clientfeatures "k8s.io/client-go/features"
	clientfeaturestesting "k8s.io/client-go/features/testing"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/rancher/scale-cluster-agent/internal/mockapi"
	"github.com/rancher/scale-cluster-agent/internal/pki"
)

// ---------------------------------------------------------------------------------------------
// 1. Typed clientset over protobuf

func TestClientGoTypedProtobuf(t *testing.T) {
	t.Parallel()
	fl := cgStartFleet(t)
	cfg := cgProtoConfig(fl, 0)
	rec := &cgRecorder{}
	rec.wrap(cfg)
	cs := cgClient(t, cfg)
	ctx := cgCtx(t)
	ns := cgNamespace(t, cs, "typed").Name

	t.Run("Nodes", func(t *testing.T) {
		nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(nodes.Items) != 3 {
			t.Fatalf("got %d nodes, want 3 (1 control plane + 2 workers)", len(nodes.Items))
		}
		if nodes.ResourceVersion == "" {
			t.Error("node list has no resourceVersion")
		}
		for _, n := range nodes.Items {
			ready := false
			for _, c := range n.Status.Conditions {
				if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
					ready = true
				}
			}
			if !ready {
				t.Errorf("node %s is not Ready: %+v", n.Name, n.Status.Conditions)
			}
			got, err := cs.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
			if err != nil {
				t.Fatalf("get node %s: %v", n.Name, err)
			}
			if got.UID != n.UID || got.ResourceVersion != n.ResourceVersion || got.Name != n.Name {
				t.Errorf("get node %s: uid/rv %s/%s, list had %s/%s", n.Name, got.UID, got.ResourceVersion, n.UID, n.ResourceVersion)
			}
		}
		list := rec.forPath("/api/v1/nodes")
		if len(list) == 0 || !strings.HasPrefix(list[0].RespType, cgProtobuf) {
			t.Errorf("node list was not answered in protobuf: %+v", list)
		}
	})

	t.Run("ConfigMapCRUD", func(t *testing.T) {
		cm, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "crud", Labels: map[string]string{"app": "crud"}},
			Data:       map[string]string{"k": "v1"},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if cm.UID == "" || cm.ResourceVersion == "" || cm.CreationTimestamp.IsZero() || cm.Namespace != ns {
			t.Errorf("created configmap lacks server-set metadata: %+v", cm.ObjectMeta)
		}
		got, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "crud", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.UID != cm.UID || got.Data["k"] != "v1" || got.ResourceVersion != cm.ResourceVersion {
			t.Errorf("get after create: %+v", got)
		}
		got.Data["k"] = "v2"
		upd, err := cs.CoreV1().ConfigMaps(ns).Update(ctx, got, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if upd.Data["k"] != "v2" || upd.ResourceVersion == cm.ResourceVersion || upd.UID != cm.UID {
			t.Errorf("update: data %v rv %s (was %s) uid %s", upd.Data, upd.ResourceVersion, cm.ResourceVersion, upd.UID)
		}
		if cgRV(t, upd.ResourceVersion) <= cgRV(t, cm.ResourceVersion) {
			t.Errorf("resourceVersion did not grow: %s -> %s", cm.ResourceVersion, upd.ResourceVersion)
		}
		// An update that changes nothing is not written: same resourceVersion.
		noop, err := cs.CoreV1().ConfigMaps(ns).Update(ctx, upd, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if noop.ResourceVersion != upd.ResourceVersion {
			t.Errorf("no-op update changed resourceVersion %s -> %s", upd.ResourceVersion, noop.ResourceVersion)
		}
		// The other simulated cluster, which has the same "default" namespace, does not see
		// objects of this one.
		if _, err := cs.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "isolated"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		other := cgClient(t, cgProtoConfig(fl, 1))
		if _, err := other.CoreV1().ConfigMaps("default").Get(ctx, "isolated", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("configmap of cluster 0 visible in cluster 1: err=%v", err)
		}
		if err := cs.CoreV1().ConfigMaps(ns).Delete(ctx, "crud", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "crud", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("get after delete: want NotFound, got %v", err)
		}
		for _, q := range rec.forPath("/api/v1/namespaces/" + ns + "/configmaps") {
			if q.Method == "POST" && q.ContentType != cgProtobuf {
				t.Errorf("create was sent as %q, want protobuf", q.ContentType)
			}
		}
	})

	t.Run("NodeUpdateStatus", func(t *testing.T) {
		nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil || len(nodes.Items) == 0 {
			t.Fatalf("list nodes: %v", err)
		}
		n := nodes.Items[len(nodes.Items)-1].DeepCopy()
		wasUnschedulable := n.Spec.Unschedulable
		n.Status.Conditions = append(n.Status.Conditions, corev1.NodeCondition{
			Type: "E2EProbe", Status: corev1.ConditionTrue, Reason: "Probing", Message: "set through /status",
			LastHeartbeatTime: metav1.Now().Rfc3339Copy(), LastTransitionTime: metav1.Now().Rfc3339Copy(),
		})
		n.Spec.Unschedulable = !wasUnschedulable // ignored by nodes/status
		if n.Labels == nil {
			n.Labels = map[string]string{}
		}
		n.Labels["e2e.example.com/status-label"] = "set-through-status"
		upd, err := cs.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !cgHasNodeCondition(upd, "E2EProbe") {
			t.Errorf("status change not applied: %+v", upd.Status.Conditions)
		}
		if upd.Spec.Unschedulable != wasUnschedulable {
			t.Errorf("nodes/status changed spec.unschedulable to %v", upd.Spec.Unschedulable)
		}
		// A real kube-apiserver's node status strategy resets only the spec
		// (nodeStatusStrategy.PrepareForUpdate, reset fields {spec}): metadata such as labels
		// sent to nodes/status is stored. Deployments (below) do reset labels.
		if upd.Labels["e2e.example.com/status-label"] != "set-through-status" {
			t.Errorf("nodes/status: a label change is stored by a real kube-apiserver (only .spec is reset); got labels %v", upd.Labels)
		}
		got, err := cs.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !cgHasNodeCondition(got, "E2EProbe") || got.Spec.Unschedulable != wasUnschedulable {
			t.Errorf("stored node after UpdateStatus: unschedulable=%v conditions=%+v", got.Spec.Unschedulable, got.Status.Conditions)
		}
		// The main resource ignores status.
		got.Status.Conditions = nil
		got.Spec.Unschedulable = !wasUnschedulable
		upd2, err := cs.CoreV1().Nodes().Update(ctx, got, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !cgHasNodeCondition(upd2, "E2EProbe") || upd2.Spec.Unschedulable == wasUnschedulable {
			t.Errorf("node update: want spec changed and status kept; unschedulable=%v conditions=%d", upd2.Spec.Unschedulable, len(upd2.Status.Conditions))
		}
		if q := rec.forPath("/api/v1/nodes/" + n.Name + "/status"); len(q) == 0 || q[0].Method != "PUT" || q[0].ContentType != cgProtobuf {
			t.Errorf("UpdateStatus requests: %+v", q)
		}
	})

	t.Run("DeploymentStatusAndGeneration", func(t *testing.T) {
		d := cgDeployment("web", ns, 1)
		d.Status.Replicas = 7 // ignored on create
		d, err := cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if d.Generation != 1 {
			t.Errorf("generation after create = %d, want 1", d.Generation)
		}
		if d.Status.Replicas != 0 {
			t.Errorf("create stored status.replicas=%d, want 0 (status is reset on create)", d.Status.Replicas)
		}

		// UpdateStatus: only .status changes; spec and labels sent with it are ignored.
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1}
		d.Spec.Replicas = ptr.To[int32](5)
		d.Labels["e2e"] = "status"
		s, err := cs.AppsV1().Deployments(ns).UpdateStatus(ctx, d, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if s.Status.Replicas != 1 || s.Status.AvailableReplicas != 1 || s.Status.ObservedGeneration != 1 {
			t.Errorf("status not applied: %+v", s.Status)
		}
		if *s.Spec.Replicas != 1 {
			t.Errorf("deployments/status changed spec.replicas to %d", *s.Spec.Replicas)
		}
		if _, ok := s.Labels["e2e"]; ok {
			t.Errorf("deployments/status changed labels: %v", s.Labels)
		}
		if s.Generation != 1 {
			t.Errorf("status update changed generation to %d", s.Generation)
		}

		// Main resource: the spec change is applied and bumps generation; status is ignored.
		s.Spec.Replicas = ptr.To[int32](2)
		s.Status.Replicas = 9
		u, err := cs.AppsV1().Deployments(ns).Update(ctx, s, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if *u.Spec.Replicas != 2 || u.Status.Replicas != 1 {
			t.Errorf("update: spec.replicas=%d status.replicas=%d, want 2 and 1", *u.Spec.Replicas, u.Status.Replicas)
		}
		if u.Generation != 2 {
			t.Errorf("generation after spec change = %d, want 2", u.Generation)
		}

		// A label change is not a spec change.
		u.Labels["tier"] = "frontend"
		l, err := cs.AppsV1().Deployments(ns).Update(ctx, u, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if l.Generation != 2 || l.Labels["tier"] != "frontend" {
			t.Errorf("label-only update: generation=%d labels=%v, want generation 2", l.Generation, l.Labels)
		}
		// Deployments also bump generation on annotation changes (deploymentStrategy.
		// PrepareForUpdate: annotations are copied to the ReplicaSets).
		l.Annotations = map[string]string{"e2e.example.com/note": "x"}
		a, err := cs.AppsV1().Deployments(ns).Update(ctx, l, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if a.Generation != 3 {
			t.Errorf("deployment annotation change: generation=%d, a real kube-apiserver bumps it to 3", a.Generation)
		}
	})
}

func cgHasNodeCondition(n *corev1.Node, typ corev1.NodeConditionType) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == typ {
			return true
		}
	}
	return false
}

func cgDeployment(name, ns string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app": name}},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx:1.27"}}},
			},
		},
	}
}

func cgRV(t *testing.T, rv string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(rv, 10, 64)
	if err != nil {
		t.Fatalf("resourceVersion %q is not a number: %v", rv, err)
	}
	return n
}

// ---------------------------------------------------------------------------------------------
// 2. Informers

// cgInformerRun starts a SharedInformerFactory on nodes, configmaps and pods, waits for it
// to sync within 5 s, then drives add/update/delete of objects created after the sync through
// its event handlers.
func cgInformerRun(t *testing.T, fl *cgFleet, cluster int, rec *cgRecorder) {
	cfg := cgProtoConfig(fl, cluster)
	rec.wrap(cfg)
	cs := cgClient(t, cfg)
	admin := cgClient(t, cgProtoConfig(fl, cluster))
	ctx := cgCtx(t)
	ns := cgNamespace(t, admin, "informers").Name

	events := &cgEvents{}
	handler := func(kind string) cache.ResourceEventHandlerFuncs {
		return cache.ResourceEventHandlerFuncs{
			AddFunc: func(obj interface{}) {
				m, _ := meta.Accessor(obj)
				events.add(fmt.Sprintf("ADD %s %s", kind, cgKey(m)))
			},
			UpdateFunc: func(oldObj, newObj interface{}) {
				m, _ := meta.Accessor(newObj)
				events.add(fmt.Sprintf("UPDATE %s %s %s", kind, cgKey(m), m.GetLabels()["step"]))
			},
			DeleteFunc: func(obj interface{}) {
				if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
					obj = d.Obj
				}
				m, _ := meta.Accessor(obj)
				events.add(fmt.Sprintf("DELETE %s %s", kind, cgKey(m)))
			},
		}
	}
	factory := informers.NewSharedInformerFactory(cs, 0)
	nodeInf := factory.Core().V1().Nodes().Informer()
	cmInf := factory.Core().V1().ConfigMaps().Informer()
	podInf := factory.Core().V1().Pods().Informer()
	for kind, inf := range map[string]cache.SharedIndexInformer{"node": nodeInf, "configmap": cmInf, "pod": podInf} {
		if _, err := inf.AddEventHandler(handler(kind)); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	t.Cleanup(func() {
		close(stop)
		factory.Shutdown()
	})
	start := time.Now()
	factory.Start(stop)
	syncStop := make(chan struct{})
	timer := time.AfterFunc(5*time.Second, func() { close(syncStop) })
	synced := factory.WaitForCacheSync(syncStop)
	timer.Stop()
	for typ, ok := range synced {
		if !ok {
			t.Fatalf("informer for %v did not sync within 5 s; requests:%s", typ, cgURLs(rec.all()))
		}
	}
	t.Logf("informers synced in %v", time.Since(start).Round(time.Millisecond))
	initial := nodeInf.GetStore().List()
	if len(initial) != 3 {
		t.Fatalf("node informer holds %d nodes after sync, want 3", len(initial))
	}
	for _, n := range initial {
		events.wait(t, "ADD node "+cgKey(cgMustMeta(n)), 5*time.Second)
	}
	for _, inf := range []cache.SharedIndexInformer{nodeInf, cmInf, podInf} {
		if inf.LastSyncResourceVersion() == "" {
			t.Errorf("informer synced without a resourceVersion")
		}
	}

	// ConfigMap
	cm, err := admin.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "inf-cm", Labels: map[string]string{"step": "1"}}, Data: map[string]string{"a": "1"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	events.wait(t, "ADD configmap "+ns+"/inf-cm", 5*time.Second)
	cm.Labels["step"] = "2"
	if _, err := admin.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	events.wait(t, "UPDATE configmap "+ns+"/inf-cm 2", 5*time.Second)
	if err := admin.CoreV1().ConfigMaps(ns).Delete(ctx, "inf-cm", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	events.wait(t, "DELETE configmap "+ns+"/inf-cm", 5*time.Second)

	// Pod (unscheduled, so a real apiserver deletes it at once)
	pod, err := admin.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "inf-pod", Labels: map[string]string{"step": "1"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox:1.36"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	events.wait(t, "ADD pod "+ns+"/inf-pod", 5*time.Second)
	pod.Labels["step"] = "2"
	if _, err := admin.CoreV1().Pods(ns).Update(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	events.wait(t, "UPDATE pod "+ns+"/inf-pod 2", 5*time.Second)
	if err := admin.CoreV1().Pods(ns).Delete(ctx, "inf-pod", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	events.wait(t, "DELETE pod "+ns+"/inf-pod", 5*time.Second)

	// Node
	node, err := admin.CoreV1().Nodes().Create(ctx, &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "inf-node", Labels: map[string]string{"step": "1"}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	events.wait(t, "ADD node /inf-node", 5*time.Second)
	node.Labels["step"] = "2"
	if _, err := admin.CoreV1().Nodes().Update(ctx, node, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	events.wait(t, "UPDATE node /inf-node 2", 5*time.Second)
	if err := admin.CoreV1().Nodes().Delete(ctx, "inf-node", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	events.wait(t, "DELETE node /inf-node", 5*time.Second)

	if _, exists, _ := nodeInf.GetStore().GetByKey("inf-node"); exists {
		t.Error("deleted node still in the informer's store")
	}
	if n := len(nodeInf.GetStore().List()); n != 3 {
		t.Errorf("node informer holds %d nodes at the end, want 3", n)
	}
}

func cgKey(m metav1.Object) string {
	if m == nil {
		return "?"
	}
	return m.GetNamespace() + "/" + m.GetName()
}

func cgMustMeta(obj interface{}) metav1.Object {
	m, _ := meta.Accessor(obj)
	return m
}

// TestClientGoInformersWatchList runs informers with client-go 0.37's default: the watch-list
// (streaming) initial sync, which needs the k8s.io/initial-events-end bookmark.
func TestClientGoInformersWatchList(t *testing.T) {
	t.Parallel()
	if !clientfeatures.FeatureGates().Enabled(clientfeatures.WatchListClient) {
		t.Fatalf("client-go's WatchListClient gate is off in this process (KUBE_FEATURE_WatchListClient?); this test checks the default")
	}
	fl := cgStartFleet(t)
	rec := &cgRecorder{}
	cgInformerRun(t, fl, 0, rec)
	for _, path := range []string{"/api/v1/nodes", "/api/v1/configmaps", "/api/v1/pods"} {
		reqs := rec.forPath(path)
		streamed := false
		for _, q := range reqs {
			if !cgIsWatch(q) {
				t.Errorf("%s: informer fell back to a LIST (%s): the watch-list stream failed", path, q.URL.RequestURI())
				continue
			}
			u := q.URL
			if cgQueryHas(u, "sendInitialEvents", "true") && cgQueryHas(u, "resourceVersionMatch", "NotOlderThan") &&
				cgQueryHas(u, "allowWatchBookmarks", "true") {
				streamed = true
				if q.Status != 200 || !strings.HasPrefix(q.RespType, cgProtobuf) {
					t.Errorf("%s: watch-list answered %d %q, want 200 protobuf", path, q.Status, q.RespType)
				}
			}
		}
		if !streamed {
			t.Errorf("%s: no watch with sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true:%s", path, cgURLs(reqs))
		}
	}
}

// TestClientGoInformersListWatchFallback runs the same informers with the WatchListClient
// gate off: the classic LIST then WATCH from the list's resourceVersion. It changes a
// process-wide client-go gate, so it is not parallel (parallel tests run only after it).
func TestClientGoInformersListWatchFallback(t *testing.T) {
	clientfeaturestesting.SetFeatureDuringTest(t, clientfeatures.WatchListClient, false)
	fl := cgStartFleet(t)
	rec := &cgRecorder{}
	cgInformerRun(t, fl, 1, rec)
	for _, path := range []string{"/api/v1/nodes", "/api/v1/configmaps", "/api/v1/pods"} {
		reqs := rec.forPath(path)
		listed, watched := false, false
		for _, q := range reqs {
			if q.URL.Query().Has("sendInitialEvents") {
				t.Errorf("%s: sendInitialEvents sent with the gate off: %s", path, q.URL.RequestURI())
			}
			if !cgIsWatch(q) {
				if q.Status != 200 {
					t.Errorf("%s: LIST answered %d", path, q.Status)
				}
				listed = true
				continue
			}
			if !listed {
				t.Errorf("%s: WATCH before any LIST: %s", path, q.URL.RequestURI())
			}
			if q.URL.Query().Get("resourceVersion") == "" || q.Status != 200 {
				t.Errorf("%s: watch %s answered %d; want a watch from the list's resourceVersion", path, q.URL.RequestURI(), q.Status)
			}
			watched = true
		}
		if !listed || !watched {
			t.Errorf("%s: want LIST then WATCH, got:%s", path, cgURLs(reqs))
		}
	}
}

// ---------------------------------------------------------------------------------------------
// 3. Watch semantics

func TestClientGoWatch(t *testing.T) {
	t.Parallel()
	fl := cgStartFleet(t)
	cs := cgClient(t, cgProtoConfig(fl, 0))
	ctx := cgCtx(t)

	t.Run("FromListResourceVersion", func(t *testing.T) {
		t.Parallel()
		ns := cgNamespace(t, cs, "watch-rv").Name
		cms := cs.CoreV1().ConfigMaps(ns)
		for _, n := range []string{"a", "b"} {
			if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: n}}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		list, err := cms.List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		listRV := cgRV(t, list.ResourceVersion)
		if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		a := list.Items[0].DeepCopy()
		a.Data = map[string]string{"x": "y"}
		if _, err := cms.Update(ctx, a, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := cms.Delete(ctx, "b", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		want := []string{"ADDED c", "MODIFIED a", "DELETED b"}
		last := listRV
		for _, wv := range want {
			ev := cgRecv(t, w, 5*time.Second)
			m, err := meta.Accessor(ev.Object)
			if err != nil {
				t.Fatalf("event %s carries %T", ev.Type, ev.Object)
			}
			if got := string(ev.Type) + " " + m.GetName(); got != wv {
				t.Fatalf("event %q, want %q", got, wv)
			}
			rv := cgRV(t, m.GetResourceVersion())
			if rv <= last {
				t.Errorf("event %s has resourceVersion %d, not after %d", wv, rv, last)
			}
			last = rv
		}
		cgNoEvent(t, w, 300*time.Millisecond)
	})

	t.Run("LabelSelectorLeavingIsDeleted", func(t *testing.T) {
		t.Parallel()
		ns := cgNamespace(t, cs, "watch-sel").Name
		cms := cs.CoreV1().ConfigMaps(ns)
		w, err := cms.Watch(ctx, metav1.ListOptions{LabelSelector: "team=a"})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "other", Labels: map[string]string{"team": "b"}}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		cm, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x", Labels: map[string]string{"team": "a"}}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if ev := cgRecv(t, w, 5*time.Second); ev.Type != watch.Added || cgMustMeta(ev.Object).GetName() != "x" {
			t.Fatalf("want ADDED x, got %s %s", ev.Type, cgDescribe(ev.Object))
		}
		cm.Data = map[string]string{"k": "v"}
		if cm, err = cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		if ev := cgRecv(t, w, 5*time.Second); ev.Type != watch.Modified {
			t.Fatalf("want MODIFIED x, got %s %s", ev.Type, cgDescribe(ev.Object))
		}
		cm.Labels["team"] = "b"
		left, err := cms.Update(ctx, cm, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ev := cgRecv(t, w, 5*time.Second)
		if ev.Type != watch.Deleted {
			t.Fatalf("object leaving the selector: want DELETED, got %s %s", ev.Type, cgDescribe(ev.Object))
		}
		// The watch cache sends the object as it was last seen matching, stamped with the
		// resourceVersion of the change (cacheWatcher.convertToWatchEvent).
		gone := ev.Object.(*corev1.ConfigMap)
		if gone.ResourceVersion != left.ResourceVersion {
			t.Errorf("DELETED event resourceVersion %s, want the update's %s", gone.ResourceVersion, left.ResourceVersion)
		}
		if gone.Labels["team"] != "a" {
			t.Errorf("DELETED event for an object leaving the selector carries labels %v; a real kube-apiserver sends the previous (matching) object, team=a", gone.Labels)
		}
		left.Labels["team"] = "a"
		if _, err := cms.Update(ctx, left, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		if ev := cgRecv(t, w, 5*time.Second); ev.Type != watch.Added || ev.Object.(*corev1.ConfigMap).Labels["team"] != "a" {
			t.Fatalf("object re-entering the selector: want ADDED, got %s %s", ev.Type, cgDescribe(ev.Object))
		}
		cgNoEvent(t, w, 200*time.Millisecond)
	})

	t.Run("InitialEventsEndBookmark", func(t *testing.T) {
		t.Parallel()
		ns := cgNamespace(t, cs, "watch-list").Name
		cms := cs.CoreV1().ConfigMaps(ns)
		for _, n := range []string{"p", "q"} {
			if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: n}}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		w, err := cms.Watch(ctx, metav1.ListOptions{
			SendInitialEvents: ptr.To(true), ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan, AllowWatchBookmarks: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		var names []string
		for {
			ev := cgRecv(t, w, 5*time.Second)
			if ev.Type == watch.Bookmark {
				m := cgMustMeta(ev.Object)
				if m.GetAnnotations()[metav1.InitialEventsAnnotationKey] != "true" {
					t.Fatalf("first bookmark lacks %s: %v", metav1.InitialEventsAnnotationKey, m.GetAnnotations())
				}
				if m.GetResourceVersion() == "" {
					t.Error("initial-events-end bookmark has no resourceVersion")
				}
				break
			}
			if ev.Type != watch.Added {
				t.Fatalf("initial event %s, want ADDED", ev.Type)
			}
			names = append(names, cgMustMeta(ev.Object).GetName())
		}
		sort.Strings(names)
		// kube-root-ca.crt is the root CA publisher's, in every namespace.
		if strings.Join(names, ",") != "kube-root-ca.crt,p,q" {
			t.Errorf("initial events for %v, want kube-root-ca.crt,p,q", names)
		}
	})

	t.Run("PeriodicBookmark", func(t *testing.T) {
		t.Parallel()
		ns := cgNamespace(t, cs, "watch-bm").Name
		cms := cs.CoreV1().ConfigMaps(ns)
		list, err := cms.List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// A real apiserver sends a bookmark to a watch that allows them roughly every minute
		// and 2 s before the watch's deadline (cacheWatcher.nextBookmarkTime).
		start := time.Now()
		w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion, AllowWatchBookmarks: true, TimeoutSeconds: ptr.To[int64](5)})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		var bookmark *corev1.ConfigMap
		for ev := range w.ResultChan() {
			if ev.Type == watch.Bookmark {
				bookmark = ev.Object.(*corev1.ConfigMap)
				break
			}
			t.Errorf("unexpected %s event", ev.Type)
		}
		if bookmark == nil {
			t.Fatalf("watch with allowWatchBookmarks and timeoutSeconds=5 ended after %v without a BOOKMARK; a real kube-apiserver sends one 2 s before the deadline",
				time.Since(start).Round(time.Millisecond))
		}
		if cgRV(t, bookmark.ResourceVersion) < cgRV(t, list.ResourceVersion) || bookmark.Name != "" {
			t.Errorf("bookmark: rv %s (list %s) name %q", bookmark.ResourceVersion, list.ResourceVersion, bookmark.Name)
		}
	})

	t.Run("TimeoutSeconds", func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		w, err := cs.CoreV1().ConfigMaps("default").Watch(ctx, metav1.ListOptions{TimeoutSeconds: ptr.To[int64](2)})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		deadline := time.After(8 * time.Second)
		for {
			select {
			case _, ok := <-w.ResultChan():
				if ok {
					continue // initial ADDED events of the namespace's configmaps
				}
				if d := time.Since(start); d < 1500*time.Millisecond || d > 5*time.Second {
					t.Errorf("watch with timeoutSeconds=2 ended after %v", d)
				}
				return
			case <-deadline:
				t.Fatal("watch with timeoutSeconds=2 still open after 8 s")
			}
		}
	})
}

// TestClientGoWatchExpired serves one cluster that keeps only 10 events of history: a watch
// from an older resourceVersion must be told 410 Expired.
func TestClientGoWatchExpired(t *testing.T) {
	t.Parallel()
	cgQuiet()
	auth, err := pki.LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := auth.ServingCert()
	if err != nil {
		t.Fatal(err)
	}
	srv := mockapi.NewServer(mockapi.Options{ServingCert: cert, CACert: auth.CertPEM, WatchHistory: 10, Log: cgLog()})
	conns := &cgConns{}
	t.Cleanup(func() {
		conns.closeAll()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	c, err := srv.AddCluster(mockapi.ClusterSpec{Name: "expiring", AdminToken: "admin-token", Objects: []runtime.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &rest.Config{Host: c.URL(), BearerToken: c.AdminToken(), TLSClientConfig: rest.TLSClientConfig{CAData: auth.CertPEM}, QPS: -1, Dial: conns.dial}
	cfg.ContentType, cfg.AcceptContentTypes = cgProtobuf, cgProtobufAccept
	cs := cgClient(t, cfg)
	ctx := cgCtx(t)
	cms := cs.CoreV1().ConfigMaps("default")
	list, err := cms.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var lastRV string
	for i := 0; i < 30; i++ {
		cm, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("churn-%02d", i)}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		lastRV = cm.ResourceVersion
	}

	// A recent resourceVersion still resumes.
	w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: lastRV})
	if err != nil {
		t.Fatalf("watch from the latest resourceVersion: %v", err)
	}
	cgNoEvent(t, w, 100*time.Millisecond)
	w.Stop()

	// A real kube-apiserver accepts the watch request (HTTP 200) and sends one ERROR event
	// carrying a 410 Expired Status (the watch cache's errWatcher: "once we have passed
	// authn/authz/admission … other errors must fail with a watch event of type ERROR, rather
	// than a directly returned error"). Reflectors rely on this to relist.
	w, err = cms.Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
	if err != nil {
		st := cgStatus(t, err)
		t.Errorf("watch from a too-old resourceVersion failed the request itself (%d %s %q); a real kube-apiserver answers 200 and an ERROR event with a 410 Expired Status",
			st.Code, st.Reason, st.Message)
		if !apierrors.IsResourceExpired(err) && !apierrors.IsGone(err) {
			t.Errorf("and the error is not even 410 Expired/Gone: %v", err)
		}
		return
	}
	defer w.Stop()
	ev := cgRecv(t, w, 5*time.Second)
	if ev.Type != watch.Error {
		t.Fatalf("first event %s %s, want ERROR", ev.Type, cgDescribe(ev.Object))
	}
	err = apierrors.FromObject(ev.Object)
	if !apierrors.IsResourceExpired(err) && !apierrors.IsGone(err) {
		t.Errorf("ERROR event %v is not 410 Expired/Gone", err)
	}
	st := cgStatus(t, err)
	cgCheckStatus(t, "too old resourceVersion", st, 410, metav1.StatusReasonExpired, "")
	if !strings.HasPrefix(st.Message, "too old resource version: "+list.ResourceVersion+" (") {
		t.Errorf("message %q, want \"too old resource version: %s (<oldest>)\"", st.Message, list.ResourceVersion)
	}
}

// ---------------------------------------------------------------------------------------------
// 4. Dynamic client (JSON)

func TestClientGoDynamic(t *testing.T) {
	t.Parallel()
	fl := cgStartFleet(t)
	cfg := cgConfig(fl, 1)
	rec := &cgRecorder{}
	rec.wrap(cfg)
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cs := cgClient(t, cgConfig(fl, 1))
	ctx := cgCtx(t)
	ns := cgNamespace(t, cs, "dynamic").Name
	cmGVR := corev1.SchemeGroupVersion.WithResource("configmaps")
	cms := dc.Resource(cmGVR).Namespace(ns)

	for i := 0; i < 25; i++ {
		u := &unstructured.Unstructured{Object: map[string]interface{}{
			"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]interface{}{"name": fmt.Sprintf("page-%02d", i), "labels": map[string]interface{}{"e2e-page": "yes"}},
			"data":     map[string]interface{}{"i": strconv.Itoa(i)},
		}}
		if _, err := cms.Create(ctx, u, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 3; i++ {
		u := &unstructured.Unstructured{Object: map[string]interface{}{
			"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]interface{}{"name": fmt.Sprintf("other-%d", i), "labels": map[string]interface{}{"e2e-page": "no"}},
		}}
		if _, err := cms.Create(ctx, u, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("LabelSelectorPagination", func(t *testing.T) {
		seen := map[string]int{}
		var sizes []int
		var firstRV string
		cont := ""
		for page := 0; ; page++ {
			if page > 5 {
				t.Fatal("pagination does not end")
			}
			l, err := cms.List(ctx, metav1.ListOptions{LabelSelector: "e2e-page=yes", Limit: 10, Continue: cont})
			if err != nil {
				t.Fatalf("page %d: %v", page, err)
			}
			sizes = append(sizes, len(l.Items))
			for _, it := range l.Items {
				seen[it.GetName()]++
				if it.GetLabels()["e2e-page"] != "yes" {
					t.Errorf("%s does not match the selector", it.GetName())
				}
			}
			if page == 0 {
				firstRV = l.GetResourceVersion()
				// Created after the first page: not part of the paginated list's snapshot.
				late := &unstructured.Unstructured{Object: map[string]interface{}{
					"apiVersion": "v1", "kind": "ConfigMap",
					"metadata": map[string]interface{}{"name": "page-99", "labels": map[string]interface{}{"e2e-page": "yes"}},
				}}
				if _, err := cms.Create(ctx, late, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			} else if l.GetResourceVersion() != firstRV {
				t.Errorf("page %d has resourceVersion %s; continuations are served at the first page's %s", page, l.GetResourceVersion(), firstRV)
			}
			if l.GetRemainingItemCount() != nil {
				t.Errorf("page %d: remainingItemCount=%d with a label selector; a real apiserver omits it", page, *l.GetRemainingItemCount())
			}
			cont = l.GetContinue()
			if cont == "" {
				break
			}
		}
		if fmt.Sprint(sizes) != "[10 10 5]" {
			t.Errorf("page sizes %v, want [10 10 5]", sizes)
		}
		if seen["page-99"] != 0 {
			t.Errorf("page-99, created after the first page, appeared in a continuation; a real apiserver lists a consistent snapshot at the first page's resourceVersion")
		}
		delete(seen, "page-99")
		if len(seen) != 25 {
			t.Errorf("saw %d distinct names, want 25", len(seen))
		}
		for n, c := range seen {
			if c != 1 {
				t.Errorf("%s listed %d times", n, c)
			}
		}
		var sent bool
		for _, q := range rec.forPath("/api/v1/namespaces/" + ns + "/configmaps") {
			if q.Method == "GET" && q.URL.Query().Get("limit") == "10" && q.URL.Query().Get("labelSelector") == "e2e-page=yes" {
				sent = true
				if !strings.HasPrefix(q.Accept, "application/json") || !strings.HasPrefix(q.RespType, "application/json") {
					t.Errorf("dynamic list: Accept %q, response %q; want JSON", q.Accept, q.RespType)
				}
			}
		}
		if !sent {
			t.Error("no list request with limit=10&labelSelector=e2e-page=yes was recorded")
		}
	})

	t.Run("RemainingItemCount", func(t *testing.T) {
		all, err := cms.List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		l, err := cms.List(ctx, metav1.ListOptions{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Items) != 10 || l.GetContinue() == "" {
			t.Fatalf("first page: %d items, continue %q", len(l.Items), l.GetContinue())
		}
		want := int64(len(all.Items) - 10)
		if got := l.GetRemainingItemCount(); got == nil || *got != want {
			t.Errorf("remainingItemCount = %v, want %d (set by a real apiserver when there is no selector)", cgInt64(got), want)
		}
	})

	t.Run("UnstructuredDeployment", func(t *testing.T) {
		deployGVR := appsv1.SchemeGroupVersion.WithResource("deployments")
		obj := &unstructured.Unstructured{Object: map[string]interface{}{
			"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": map[string]interface{}{"name": "dyn", "labels": map[string]interface{}{"app": "dyn"}},
			"spec": map[string]interface{}{
				"replicas": int64(2),
				"selector": map[string]interface{}{"matchLabels": map[string]interface{}{"app": "dyn"}},
				"template": map[string]interface{}{
					"metadata": map[string]interface{}{"labels": map[string]interface{}{"app": "dyn"}},
					"spec": map[string]interface{}{"containers": []interface{}{
						map[string]interface{}{"name": "app", "image": "nginx:1.27"},
					}},
				},
			},
		}}
		created, err := dc.Resource(deployGVR).Namespace(ns).Create(ctx, obj, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if created.GetAPIVersion() != "apps/v1" || created.GetKind() != "Deployment" || created.GetUID() == "" || created.GetGeneration() != 1 {
			t.Errorf("created: %s %s uid=%q generation=%d", created.GetAPIVersion(), created.GetKind(), created.GetUID(), created.GetGeneration())
		}
		got, err := dc.Resource(deployGVR).Namespace(ns).Get(ctx, "dyn", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		replicas, _, _ := unstructured.NestedInt64(got.Object, "spec", "replicas")
		containers, _, _ := unstructured.NestedSlice(got.Object, "spec", "template", "spec", "containers")
		if replicas != 2 || len(containers) != 1 || got.GetUID() != created.GetUID() {
			t.Errorf("get: replicas=%d containers=%v uid=%s", replicas, containers, got.GetUID())
		}
		// The typed client reads the same object.
		typed, err := cs.AppsV1().Deployments(ns).Get(ctx, "dyn", metav1.GetOptions{})
		if err != nil || typed.UID != created.GetUID() {
			t.Errorf("typed get of the unstructured deployment: %v", err)
		}
	})
}

func cgInt64(p *int64) string {
	if p == nil {
		return "nil"
	}
	return strconv.FormatInt(*p, 10)
}

// ---------------------------------------------------------------------------------------------
// 5. Metadata client

func TestClientGoMetadata(t *testing.T) {
	t.Parallel()
	fl := cgStartFleet(t)
	cfg := cgConfig(fl, 0)
	rec := &cgRecorder{}
	rec.wrap(cfg)
	mc, err := metadata.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cs := cgClient(t, cgConfig(fl, 0))
	ctx := cgCtx(t)
	ns := cgNamespace(t, cs, "meta").Name
	uids := map[string]string{}
	for i := 0; i < 3; i++ {
		cm, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("m%d", i), Labels: map[string]string{"m": "yes"}, Annotations: map[string]string{"note": strconv.Itoa(i)}},
			Data:       map[string]string{"payload": strings.Repeat("x", 100)},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		uids[cm.Name] = string(cm.UID)
	}
	gvr := corev1.SchemeGroupVersion.WithResource("configmaps")
	list, err := mc.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: "m=yes"})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 3 || list.ResourceVersion == "" {
		t.Fatalf("metadata list: %d items, rv %q", len(list.Items), list.ResourceVersion)
	}
	for _, it := range list.Items {
		if uids[it.Name] != string(it.UID) || it.Labels["m"] != "yes" || it.Annotations["note"] == "" || it.ResourceVersion == "" {
			t.Errorf("metadata item %s: %+v", it.Name, it.ObjectMeta)
		}
	}
	// The response's Content-Type is the bare media type (WriteObjectNegotiated), protobuf here.
	reqs := rec.forPath("/api/v1/namespaces/" + ns + "/configmaps")
	if len(reqs) == 0 || !strings.Contains(reqs[0].Accept, "as=PartialObjectMetadataList") || reqs[0].RespType != cgProtobuf {
		t.Errorf("metadata list request/response types: %+v", reqs)
	}

	one, err := mc.Resource(gvr).Namespace(ns).Get(ctx, "m1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if one.Name != "m1" || string(one.UID) != uids["m1"] || one.Annotations["note"] != "1" {
		t.Errorf("metadata get: %+v", one.ObjectMeta)
	}
	// On the wire (the metadata client drops TypeMeta when decoding).
	raw, err := cs.CoreV1().RESTClient().Get().Namespace(ns).Resource("configmaps").Name("m1").
		SetHeader("Accept", "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1").DoRaw(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var wire map[string]interface{}
	if err := json.Unmarshal(raw, &wire); err != nil {
		t.Fatal(err)
	}
	if _, hasData := wire["data"]; wire["kind"] != "PartialObjectMetadata" || wire["apiVersion"] != "meta.k8s.io/v1" || hasData {
		t.Errorf("PartialObjectMetadata on the wire: kind %v apiVersion %v data present %v", wire["kind"], wire["apiVersion"], hasData)
	}
	if _, err := mc.Resource(gvr).Namespace(ns).Get(ctx, "absent", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("metadata get of a missing object: %v", err)
	}

	// Metadata watch, as metadata informers (e.g. garbage collectors) use it.
	w, err := mc.Resource(gvr).Namespace(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "m-late"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ev := cgRecv(t, w, 5*time.Second)
	pom, ok := ev.Object.(*metav1.PartialObjectMetadata)
	if ev.Type != watch.Added || !ok || pom.Name != "m-late" {
		t.Errorf("metadata watch: %s %T %s", ev.Type, ev.Object, cgDescribe(ev.Object))
	}
}

// ---------------------------------------------------------------------------------------------
// 6. Server-side apply with typed apply configurations

func TestClientGoServerSideApply(t *testing.T) {
	t.Parallel()
	fl := cgStartFleet(t)
	cs := cgClient(t, cgProtoConfig(fl, 0))
	ctx := cgCtx(t)
	ns := cgNamespace(t, cs, "ssa").Name
	cms := cs.CoreV1().ConfigMaps(ns)

	t.Run("ConfigMapOwnership", func(t *testing.T) {
		cm, err := cms.Apply(ctx, applycorev1.ConfigMap("owned", ns).WithLabels(map[string]string{"app": "ssa"}).
			WithData(map[string]string{"a": "1", "b": "1"}), metav1.ApplyOptions{FieldManager: "mgr-a"})
		if err != nil {
			t.Fatalf("create via apply: %v", err)
		}
		if cm.UID == "" || cm.Data["a"] != "1" || cm.Data["b"] != "1" {
			t.Fatalf("apply-created configmap: %+v", cm)
		}
		if f := cgManagedFields(cm, "mgr-a", metav1.ManagedFieldsOperationApply); f == "" ||
			!strings.Contains(f, `"f:a"`) || !strings.Contains(f, `"f:b"`) || !strings.Contains(f, `"f:app"`) {
			t.Errorf("mgr-a managedFields: %q (all: %+v)", f, cm.ManagedFields)
		}

		// Change, and stop applying b: the field mgr-a alone owned is removed.
		cm, err = cms.Apply(ctx, applycorev1.ConfigMap("owned", ns).WithLabels(map[string]string{"app": "ssa"}).
			WithData(map[string]string{"a": "2"}), metav1.ApplyOptions{FieldManager: "mgr-a"})
		if err != nil {
			t.Fatal(err)
		}
		if cm.Data["a"] != "2" {
			t.Errorf("apply change: data %v", cm.Data)
		}
		if _, ok := cm.Data["b"]; ok {
			t.Errorf("field b, no longer applied by its only owner, was kept: %v", cm.Data)
		}

		// Another manager may not take a field without force.
		_, err = cms.Apply(ctx, applycorev1.ConfigMap("owned", ns).WithData(map[string]string{"a": "3"}),
			metav1.ApplyOptions{FieldManager: "mgr-b"})
		if !apierrors.IsConflict(err) {
			t.Fatalf("conflicting apply: want 409 Conflict, got %v", err)
		}
		st := cgStatus(t, err)
		cgCheckStatus(t, "apply conflict", st, 409, metav1.StatusReasonConflict, `Apply failed with 1 conflict: conflict with "mgr-a": .data.a`)
		if st.Details == nil || len(st.Details.Causes) != 1 || st.Details.Causes[0].Type != metav1.CauseTypeFieldManagerConflict ||
			st.Details.Causes[0].Field != ".data.a" {
			t.Errorf("conflict details: %+v", st.Details)
		}

		cm, err = cms.Apply(ctx, applycorev1.ConfigMap("owned", ns).WithData(map[string]string{"a": "3"}),
			metav1.ApplyOptions{FieldManager: "mgr-b", Force: true})
		if err != nil {
			t.Fatalf("forced apply: %v", err)
		}
		if cm.Data["a"] != "3" {
			t.Errorf("forced apply: data %v", cm.Data)
		}
		if f := cgManagedFields(cm, "mgr-b", metav1.ManagedFieldsOperationApply); !strings.Contains(f, `"f:a"`) {
			t.Errorf("mgr-b does not own .data.a after force: %+v", cm.ManagedFields)
		}
		if f := cgManagedFields(cm, "mgr-a", metav1.ManagedFieldsOperationApply); strings.Contains(f, `"f:a"`) || !strings.Contains(f, `"f:app"`) {
			t.Errorf("mgr-a after losing .data.a should keep only the label: %q", f)
		}
		for _, mf := range cm.ManagedFields {
			if mf.APIVersion != "v1" || mf.FieldsType != "FieldsV1" || mf.Time == nil {
				t.Errorf("managedFields entry %+v", mf)
			}
		}

		// A plain update is recorded as an Update entry of its field manager.
		cm.Data["c"] = "from-update"
		cm, err = cms.Update(ctx, cm, metav1.UpdateOptions{FieldManager: "editor"})
		if err != nil {
			t.Fatal(err)
		}
		if f := cgManagedFields(cm, "editor", metav1.ManagedFieldsOperationUpdate); !strings.Contains(f, `"f:c"`) {
			t.Errorf("editor Update entry: %+v", cm.ManagedFields)
		}
	})

	t.Run("DeploymentContainersMergedByName", func(t *testing.T) {
		deps := cs.AppsV1().Deployments(ns)
		labels := map[string]string{"app": "merge"}
		base := func(image string) *applyappsv1.DeploymentApplyConfiguration {
			return applyappsv1.Deployment("merge", ns).WithLabels(labels).WithSpec(applyappsv1.DeploymentSpec().
				WithReplicas(1).
				WithSelector(applymetav1.LabelSelector().WithMatchLabels(labels)).
				WithTemplate(applycorev1.PodTemplateSpec().WithLabels(labels).WithSpec(applycorev1.PodSpec().
					WithContainers(applycorev1.Container().WithName("app").WithImage(image)))))
		}
		d, err := deps.Apply(ctx, base("nginx:1.27"), metav1.ApplyOptions{FieldManager: "mgr-a"})
		if err != nil {
			t.Fatal(err)
		}
		if d.Generation != 1 {
			t.Errorf("generation after apply-create = %d", d.Generation)
		}
		d, err = deps.Apply(ctx, applyappsv1.Deployment("merge", ns).WithSpec(applyappsv1.DeploymentSpec().
			WithTemplate(applycorev1.PodTemplateSpec().WithSpec(applycorev1.PodSpec().
				WithContainers(applycorev1.Container().WithName("sidecar").WithImage("busybox:1.36"))))),
			metav1.ApplyOptions{FieldManager: "mgr-b"})
		if err != nil {
			t.Fatalf("second manager adds a container: %v", err)
		}
		if got := cgContainers(d); got != "app=nginx:1.27,sidecar=busybox:1.36" {
			t.Errorf("containers after mgr-b: %s, want both, merged by name", got)
		}
		d, err = deps.Apply(ctx, base("nginx:1.28"), metav1.ApplyOptions{FieldManager: "mgr-a"})
		if err != nil {
			t.Fatal(err)
		}
		if got := cgContainers(d); got != "app=nginx:1.28,sidecar=busybox:1.36" {
			t.Errorf("containers after mgr-a changes its image: %s", got)
		}
		if d.Generation != 3 {
			t.Errorf("generation after two template changes = %d, want 3", d.Generation)
		}
		if f := cgManagedFields(d, "mgr-b", metav1.ManagedFieldsOperationApply); !strings.Contains(f, `"k:{\"name\":\"sidecar\"}"`) {
			t.Errorf("mgr-b should own the sidecar list entry by key: %q", f)
		}
	})
}

func cgManagedFields(obj metav1.Object, manager string, op metav1.ManagedFieldsOperationType) string {
	for _, mf := range obj.GetManagedFields() {
		if mf.Manager == manager && mf.Operation == op && mf.FieldsV1 != nil {
			return string(mf.FieldsV1.Raw)
		}
	}
	return ""
}

func cgContainers(d *appsv1.Deployment) string {
	var out []string
	for _, c := range d.Spec.Template.Spec.Containers {
		out = append(out, c.Name+"="+c.Image)
	}
	return strings.Join(out, ",")
}

// ---------------------------------------------------------------------------------------------
// 7. Discovery, OpenAPI v3 and REST mapping

func TestClientGoDiscovery(t *testing.T) {
	t.Parallel()
	fl := cgStartFleet(t)
	cfg := cgConfig(fl, 0)
	rec := &cgRecorder{}
	rec.wrap(cfg)
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("Version", func(t *testing.T) {
		v, err := dc.ServerVersion()
		if err != nil {
			t.Fatal(err)
		}
		if v.GitVersion != fl.Clusters[0].GitVersion() || v.Major != "1" || v.Minor != "36" {
			t.Errorf("version %+v, want %s", v, fl.Clusters[0].GitVersion())
		}
	})

	t.Run("AggregatedGroupsAndResources", func(t *testing.T) {
		groups, lists, err := dc.ServerGroupsAndResources()
		if err != nil {
			t.Fatal(err)
		}
		const aggregated = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
		for _, p := range []string{"/api", "/apis"} {
			reqs := rec.forPath(p)
			if len(reqs) == 0 {
				t.Fatalf("no request to %s", p)
			}
			if !strings.Contains(reqs[0].Accept, aggregated) || !strings.HasPrefix(reqs[0].RespType, aggregated) {
				t.Errorf("%s: Accept %q answered %q; want aggregated discovery v2", p, reqs[0].Accept, reqs[0].RespType)
			}
		}
		for _, q := range rec.all() {
			if strings.HasPrefix(q.URL.Path, "/apis/") || strings.HasPrefix(q.URL.Path, "/api/") {
				t.Errorf("aggregated discovery should need no per-group-version request, got %s", q.URL.Path)
			}
		}
		apps := false
		for _, g := range groups {
			if g.Name == "apps" {
				apps = g.PreferredVersion.GroupVersion == "apps/v1"
			}
		}
		if !apps {
			t.Errorf("group apps with preferred version apps/v1 missing")
		}
		res := cgResources(lists)
		dep, ok := res["apps/v1/deployments"]
		if !ok {
			t.Fatalf("apps/v1 deployments not discovered")
		}
		if !dep.Namespaced || dep.Kind != "Deployment" || !cgHasAll(dep.Verbs, "create", "delete", "deletecollection", "get", "list", "patch", "update", "watch") ||
			!cgHasAll(dep.ShortNames, "deploy") || !cgHasAll(dep.Categories, "all") {
			t.Errorf("deployments: %+v", dep)
		}
		for _, want := range []string{"apps/v1/deployments/status", "apps/v1/deployments/scale", "v1/pods", "v1/pods/status", "v1/configmaps", "v1/nodes", "v1/namespaces"} {
			if _, ok := res[want]; !ok {
				t.Errorf("%s not discovered", want)
			}
		}
		if res["v1/nodes"].Namespaced || !res["v1/pods"].Namespaced {
			t.Errorf("scope: nodes namespaced=%v pods namespaced=%v", res["v1/nodes"].Namespaced, res["v1/pods"].Namespaced)
		}
		if s := res["apps/v1/deployments/scale"]; s.Kind != "Scale" || s.Group != "autoscaling" || s.Version != "v1" {
			t.Errorf("deployments/scale: %s/%s %s, want autoscaling/v1 Scale", s.Group, s.Version, s.Kind)
		}
		if cs := res["v1/componentstatuses"]; !cgHasAll(cs.Verbs, "get", "list") || len(cs.Verbs) != 2 {
			t.Errorf("componentstatuses verbs %v, want [get list]", cs.Verbs)
		}
	})

	t.Run("PreferredResources", func(t *testing.T) {
		lists, err := dc.ServerPreferredResources()
		if err != nil {
			t.Fatal(err)
		}
		res := cgResources(lists)
		for _, want := range []string{"apps/v1/deployments", "v1/configmaps", "batch/v1/jobs", "rbac.authorization.k8s.io/v1/clusterroles"} {
			if _, ok := res[want]; !ok {
				t.Errorf("%s not among preferred resources", want)
			}
		}
		for k := range res {
			if strings.Contains(k, "/status") {
				t.Errorf("ServerPreferredResources returned subresource %s", k)
			}
		}
	})

	t.Run("OpenAPIV3", func(t *testing.T) {
		paths, err := dc.OpenAPIV3().Paths()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"apis/apps/v1", "api/v1"} {
			if _, ok := paths[p]; !ok {
				t.Errorf("openapi v3 paths lack %q", p)
			}
		}
		gv, ok := paths["apis/apps/v1"]
		if !ok {
			t.FailNow()
		}
		raw, err := gv.Schema(runtime.ContentTypeJSON)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			OpenAPI    string                     `json:"openapi"`
			Paths      map[string]json.RawMessage `json:"paths"`
			Components struct {
				Schemas map[string]json.RawMessage `json:"schemas"`
			} `json:"components"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("apis/apps/v1 document: %v", err)
		}
		if !strings.HasPrefix(doc.OpenAPI, "3.") {
			t.Errorf("openapi version %q", doc.OpenAPI)
		}
		if _, ok := doc.Paths["/apis/apps/v1/namespaces/{namespace}/deployments"]; !ok {
			t.Errorf("apps/v1 document lacks the deployments path")
		}
		if s, ok := doc.Components.Schemas["io.k8s.api.apps.v1.Deployment"]; !ok || !bytes.Contains(s, []byte("x-kubernetes-group-version-kind")) {
			t.Errorf("apps/v1 document lacks the Deployment schema with its GVK")
		}
		var hashed bool
		for _, q := range rec.all() {
			if q.URL.Path == "/openapi/v3/apis/apps/v1" && q.URL.Query().Get("hash") != "" && q.Status == 200 {
				hashed = true
			}
		}
		if !hashed {
			t.Errorf("the apps/v1 document was not fetched by its ?hash= URL")
		}
	})

	t.Run("RESTMapper", func(t *testing.T) {
		mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
		m, err := mapper.RESTMapping(schema.GroupKind{Group: "apps", Kind: "Deployment"})
		if err != nil {
			t.Fatal(err)
		}
		if m.Resource != appsv1.SchemeGroupVersion.WithResource("deployments") || m.Scope.Name() != meta.RESTScopeNameNamespace {
			t.Errorf("Deployment maps to %v scope %s", m.Resource, m.Scope.Name())
		}
		m, err = mapper.RESTMapping(schema.GroupKind{Kind: "Node"}, "v1")
		if err != nil || m.Resource.Resource != "nodes" || m.Scope.Name() != meta.RESTScopeNameRoot {
			t.Errorf("Node mapping %+v err %v", m, err)
		}
		expander := restmapper.NewShortcutExpander(mapper, dc, nil)
		gvr, err := expander.ResourceFor(schema.GroupVersionResource{Resource: "deploy"})
		if err != nil || gvr != appsv1.SchemeGroupVersion.WithResource("deployments") {
			t.Errorf("short name deploy -> %v (%v)", gvr, err)
		}
		gvk, err := mapper.KindFor(schema.GroupVersionResource{Resource: "configmaps"})
		if err != nil || gvk != corev1.SchemeGroupVersion.WithKind("ConfigMap") {
			t.Errorf("configmaps -> %v (%v)", gvk, err)
		}
	})
}

// cgResources indexes discovered resources as "<group-version>/<resource>".
func cgResources(lists []*metav1.APIResourceList) map[string]metav1.APIResource {
	out := map[string]metav1.APIResource{}
	for _, l := range lists {
		gv, _ := schema.ParseGroupVersion(l.GroupVersion)
		for _, r := range l.APIResources {
			if r.Group == "" && r.Version == "" {
				r.Group, r.Version = gv.Group, gv.Version
			}
			out[l.GroupVersion+"/"+r.Name] = r
		}
	}
	return out
}

// ---------------------------------------------------------------------------------------------
// 8. Errors as typed StatusErrors

func TestClientGoErrors(t *testing.T) {
	t.Parallel()
	fl := cgStartFleet(t)
	cs := cgClient(t, cgProtoConfig(fl, 1))
	jsonCS := cgClient(t, cgConfig(fl, 1))
	ctx := cgCtx(t)
	ns := cgNamespace(t, cs, "errors").Name
	cms := cs.CoreV1().ConfigMaps(ns)

	t.Run("NotFound", func(t *testing.T) {
		for name, c := range map[string]kubernetes.Interface{"protobuf": cs, "json": jsonCS} {
			_, err := c.CoreV1().ConfigMaps(ns).Get(ctx, "missing", metav1.GetOptions{})
			if !apierrors.IsNotFound(err) {
				t.Fatalf("%s: want NotFound, got %v", name, err)
			}
			st := cgStatus(t, err)
			cgCheckStatus(t, name+" NotFound", st, 404, metav1.StatusReasonNotFound, `configmaps "missing" not found`)
			if st.Details == nil || st.Details.Name != "missing" || st.Details.Kind != "configmaps" {
				t.Errorf("%s NotFound details: %+v", name, st.Details)
			}
		}
		_, err := cs.CoreV1().ConfigMaps("no-such-ns").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{})
		cgCheckStatus(t, "create in a missing namespace", cgStatus(t, err), 404, metav1.StatusReasonNotFound, `namespaces "no-such-ns" not found`)
	})

	t.Run("AlreadyExists", func(t *testing.T) {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "dup"}}
		if _, err := cms.Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		_, err := cms.Create(ctx, cm, metav1.CreateOptions{})
		if !apierrors.IsAlreadyExists(err) {
			t.Fatalf("want AlreadyExists, got %v", err)
		}
		st := cgStatus(t, err)
		cgCheckStatus(t, "AlreadyExists", st, 409, metav1.StatusReasonAlreadyExists, `configmaps "dup" already exists`)
		if st.Details == nil || st.Details.Name != "dup" || st.Details.Kind != "configmaps" {
			t.Errorf("AlreadyExists details: %+v", st.Details)
		}
	})

	t.Run("ConflictOnStaleResourceVersion", func(t *testing.T) {
		cm, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cas"}, Data: map[string]string{"v": "0"}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		fresh := cm.DeepCopy()
		fresh.Data["v"] = "1"
		if _, err := cms.Update(ctx, fresh, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		cm.Data["v"] = "stale"
		_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
		if !apierrors.IsConflict(err) {
			t.Fatalf("want Conflict, got %v", err)
		}
		cgCheckStatus(t, "Conflict", cgStatus(t, err), 409, metav1.StatusReasonConflict,
			`Operation cannot be fulfilled on configmaps "cas": the object has been modified; please apply your changes to the latest version and try again`)
		got, _ := cms.Get(ctx, "cas", metav1.GetOptions{})
		if got == nil || got.Data["v"] != "1" {
			t.Errorf("stale update was written: %v", got)
		}
	})

	t.Run("InvalidDataKey", func(t *testing.T) {
		const key = "bad key!"
		_, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "invalid"}, Data: map[string]string{key: "v"}}, metav1.CreateOptions{})
		if !apierrors.IsInvalid(err) {
			t.Fatalf("want Invalid, got %v", err)
		}
		// What ValidateConfigMap of a real kube-apiserver produces.
		var errs field.ErrorList
		for _, msg := range validation.IsConfigMapKey(key) {
			errs = append(errs, field.Invalid(field.NewPath("data").Key(key), key, msg))
		}
		want := apierrors.NewInvalid(schema.GroupKind{Kind: "ConfigMap"}, "invalid", errs).ErrStatus
		st := cgStatus(t, err)
		cgCheckStatus(t, "Invalid", st, 422, metav1.StatusReasonInvalid, want.Message)
		if st.Details == nil || st.Details.Kind != "ConfigMap" || st.Details.Name != "invalid" || len(st.Details.Causes) != len(want.Details.Causes) {
			t.Fatalf("Invalid details: %+v, want %+v", st.Details, want.Details)
		}
		for i, c := range st.Details.Causes {
			if c != want.Details.Causes[i] {
				t.Errorf("cause %d: %+v, want %+v", i, c, want.Details.Causes[i])
			}
		}
		if st.Details.Causes[0].Type != metav1.CauseTypeFieldValueInvalid || st.Details.Causes[0].Field != "data[bad key!]" {
			t.Errorf("cause: %+v", st.Details.Causes[0])
		}
	})

	t.Run("BadLabelSelector", func(t *testing.T) {
		err := cs.CoreV1().RESTClient().Get().Resource("pods").Param("labelSelector", "a b c").Do(ctx).Error()
		if !apierrors.IsBadRequest(err) {
			t.Fatalf("want BadRequest, got %v", err)
		}
		st := cgStatus(t, err)
		cgCheckStatus(t, "bad label selector", st, 400, metav1.StatusReasonBadRequest, "")
		if !strings.Contains(st.Message, "unable to parse requirement") {
			t.Errorf("message %q", st.Message)
		}
	})

	t.Run("NotAcceptable", func(t *testing.T) {
		err := jsonCS.CoreV1().RESTClient().Get().Resource("pods").SetHeader("Accept", "application/xml").Do(ctx).Error()
		if !apierrors.IsNotAcceptable(err) {
			t.Fatalf("want 406 NotAcceptable, got %T %v", err, err)
		}
		// go-restful's route selection rejects it before the apiserver's negotiation; the
		// apiserver turns its error into this Status (handleServiceError). CBOR serving is off
		// by default in v1.36 (CBORServingAndStorage is alpha), so it is not offered.
		cgCheckStatus(t, "406", cgStatus(t, err), 406, metav1.StatusReasonNotAcceptable,
			"406: Not Acceptable\n\nAvailable representations: application/json, application/yaml, application/vnd.kubernetes.protobuf, "+
				"application/json;stream=watch, application/vnd.kubernetes.protobuf;stream=watch")
	})

	t.Run("UnsupportedMediaType", func(t *testing.T) {
		err := jsonCS.CoreV1().RESTClient().Post().Namespace(ns).Resource("configmaps").
			SetHeader("Content-Type", "text/plain").Body([]byte("name: x")).Do(ctx).Error()
		if !apierrors.IsUnsupportedMediaType(err) {
			t.Fatalf("want 415 UnsupportedMediaType, got %T %v", err, err)
		}
		cgCheckStatus(t, "415", cgStatus(t, err), 415, metav1.StatusReasonUnsupportedMediaType,
			"the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf")
	})
}

// ---------------------------------------------------------------------------------------------
// 9. Service-account token Secrets

func TestClientGoServiceAccountToken(t *testing.T) {
	t.Parallel()
	fl := cgStartFleet(t)
	cs := cgClient(t, cgProtoConfig(fl, 0))
	ctx := cgCtx(t)
	ns := cgNamespace(t, cs, "sa-token").Name
	sa, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "robot"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "robot-token", Annotations: map[string]string{corev1.ServiceAccountNameKey: "robot"}},
		Type:       corev1.SecretTypeServiceAccountToken,
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var secret *corev1.Secret
	start := time.Now()
	if !cgEventually(2*time.Second, func() bool {
		s, err := cs.CoreV1().Secrets(ns).Get(ctx, "robot-token", metav1.GetOptions{})
		if err != nil {
			return false
		}
		secret = s
		return len(s.Data[corev1.ServiceAccountTokenKey]) > 0 && len(s.Data[corev1.ServiceAccountRootCAKey]) > 0 && len(s.Data[corev1.ServiceAccountNamespaceKey]) > 0
	}) {
		t.Fatalf("token Secret not filled within 2 s: %+v", secret)
	}
	t.Logf("token Secret filled after %v", time.Since(start).Round(time.Millisecond))
	if string(secret.Data[corev1.ServiceAccountNamespaceKey]) != ns {
		t.Errorf("namespace key %q", secret.Data[corev1.ServiceAccountNamespaceKey])
	}
	if !bytes.Equal(secret.Data[corev1.ServiceAccountRootCAKey], fl.Authority.CertPEM) {
		t.Errorf("ca.crt is not the cluster CA")
	}
	if secret.Annotations[corev1.ServiceAccountUIDKey] != string(sa.UID) {
		t.Errorf("annotation %s = %q, want the service account's uid %s", corev1.ServiceAccountUIDKey, secret.Annotations[corev1.ServiceAccountUIDKey], sa.UID)
	}

	tokenCfg := &rest.Config{Host: fl.Clusters[0].URL(), BearerToken: string(secret.Data[corev1.ServiceAccountTokenKey]),
		TLSClientConfig: rest.TLSClientConfig{CAData: secret.Data[corev1.ServiceAccountRootCAKey]}, QPS: -1, Dial: fl.conns.dial}
	tokenCfg.ContentType, tokenCfg.AcceptContentTypes = cgProtobuf, cgProtobufAccept
	tokenCS := cgClient(t, tokenCfg)
	review, err := tokenCS.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("SelfSubjectReview with the service-account token: %v", err)
	}
	ui := review.Status.UserInfo
	if want := "system:serviceaccount:" + ns + ":robot"; ui.Username != want {
		t.Errorf("username %q, want %q", ui.Username, want)
	}
	if ui.UID != string(sa.UID) {
		t.Errorf("uid %q, want %s", ui.UID, sa.UID)
	}
	// kube-apiserver wraps its authenticators in group.NewAuthenticatedGroupAdder, so every
	// authenticated user, service accounts included, is in system:authenticated.
	if !cgHasAll(ui.Groups, "system:serviceaccounts", "system:serviceaccounts:"+ns, "system:authenticated") {
		t.Errorf("service-account groups %v, want system:serviceaccounts, system:serviceaccounts:%s and system:authenticated", ui.Groups, ns)
	}

	// The admin is not the service account.
	adminReview, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil || adminReview.Status.UserInfo.Username == ui.Username {
		t.Errorf("admin SelfSubjectReview: %+v %v", adminReview, err)
	}

	// A token nobody issued is rejected.
	bogus := rest.CopyConfig(tokenCfg)
	bogus.BearerToken = "not-a-real-token-0123456789"
	_, err = cgClient(t, bogus).CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if !apierrors.IsUnauthorized(err) {
		t.Fatalf("random token: want 401 Unauthorized, got %v", err)
	}
	cgCheckStatus(t, "401", cgStatus(t, err), 401, metav1.StatusReasonUnauthorized, "Unauthorized")

	// Legacy token Secrets are looked up on every request (--service-account-lookup, on by
	// default): deleting the Secret revokes its token.
	if err := cs.CoreV1().Secrets(ns).Delete(ctx, "robot-token", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if !cgEventually(2*time.Second, func() bool {
		_, err := tokenCS.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
		return apierrors.IsUnauthorized(err)
	}) {
		t.Errorf("the token of a deleted service-account token Secret still authenticates; a real kube-apiserver answers 401")
	}
}

// ---------------------------------------------------------------------------------------------
// 10. Namespace deletion

func TestClientGoNamespaceDeletion(t *testing.T) {
	t.Parallel()
	fl := cgStartFleet(t)
	cs := cgClient(t, cgProtoConfig(fl, 1))
	ctx := cgCtx(t)

	fill := func(t *testing.T, ns string) {
		t.Helper()
		for i := 0; i < 3; i++ {
			if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm-%d", i)}}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s"}, StringData: map[string]string{"k": "v"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox:1.36"}}}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.AppsV1().Deployments(ns).Create(ctx, cgDeployment("d", ns, 1), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	empty := func(ns string) bool {
		cms, err1 := cs.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
		secrets, err2 := cs.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
		pods, err3 := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		deps, err4 := cs.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
		return err1 == nil && err2 == nil && err3 == nil && err4 == nil &&
			len(cms.Items)+len(secrets.Items)+len(pods.Items)+len(deps.Items) == 0
	}

	t.Run("TerminatingThenGone", func(t *testing.T) {
		t.Parallel()
		ns := cgNamespace(t, cs, "doomed")
		fill(t, ns.Name)
		w, err := cs.CoreV1().Namespaces().Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=doomed", ResourceVersion: ns.ResourceVersion})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		start := time.Now()
		if err := cs.CoreV1().Namespaces().Delete(ctx, "doomed", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		var terminating, deleted bool
		for !deleted {
			ev := cgRecv(t, w, 5*time.Second)
			n, ok := ev.Object.(*corev1.Namespace)
			if !ok {
				t.Fatalf("namespace watch: %s %s", ev.Type, cgDescribe(ev.Object))
			}
			switch ev.Type {
			case watch.Modified:
				if n.Status.Phase == corev1.NamespaceTerminating && n.DeletionTimestamp != nil {
					terminating = true
				}
			case watch.Deleted:
				deleted = true
			}
		}
		if !terminating {
			t.Error("namespace went away without a Terminating phase with a deletionTimestamp")
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("namespace deletion took %v", d)
		}
		if _, err := cs.CoreV1().Namespaces().Get(ctx, "doomed", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("get deleted namespace: %v", err)
		}
		if !empty("doomed") {
			t.Error("objects of the deleted namespace survived it")
		}
	})

	t.Run("HeldByFinalizerForbidsNewContent", func(t *testing.T) {
		t.Parallel()
		const name = "held"
		const finalizer = "e2e.example.com/hold"
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Finalizers: []string{finalizer}}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		fill(t, name)
		if err := cs.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		n, err := cs.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if n.Status.Phase != corev1.NamespaceTerminating || n.DeletionTimestamp == nil {
			t.Errorf("after delete: phase %q deletionTimestamp %v", n.Status.Phase, n.DeletionTimestamp)
		}
		if !cgEventually(5*time.Second, func() bool { return empty(name) }) {
			t.Errorf("contents of the terminating namespace not removed within 5 s")
		}
		_, err = cs.CoreV1().ConfigMaps(name).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "late"}}, metav1.CreateOptions{})
		if !apierrors.IsForbidden(err) {
			t.Fatalf("create in a terminating namespace: want Forbidden, got %v", err)
		}
		st := cgStatus(t, err)
		cgCheckStatus(t, "Forbidden", st, 403, metav1.StatusReasonForbidden,
			`configmaps "late" is forbidden: unable to create new content in namespace held because it is being terminated`)
		// The NamespaceLifecycle admission plugin adds a NamespaceTerminating cause, which
		// controllers test with apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause).
		if !apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			t.Errorf("Forbidden lacks the %s cause: %+v", corev1.NamespaceTerminatingCause, st.Details)
		} else {
			for _, c := range st.Details.Causes {
				if c.Type == corev1.NamespaceTerminatingCause && (c.Field != "metadata.namespace" || c.Message != "namespace held is being terminated") {
					t.Errorf("NamespaceTerminating cause: %+v", c)
				}
			}
		}
		n, err = cs.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("namespace held by a finalizer is gone: %v", err)
		}
		if n.Status.Phase != corev1.NamespaceTerminating || len(n.Spec.Finalizers) != 0 {
			t.Errorf("held namespace: phase %q spec.finalizers %v (the namespace controller removes \"kubernetes\")", n.Status.Phase, n.Spec.Finalizers)
		}
		n.Finalizers = nil
		if _, err := cs.CoreV1().Namespaces().Update(ctx, n, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
		if !cgEventually(5*time.Second, func() bool {
			_, err := cs.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
			return apierrors.IsNotFound(err)
		}) {
			t.Error("namespace not deleted within 5 s of removing its last finalizer")
		}
	})
}
