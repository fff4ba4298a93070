package mockapi

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/client-go/kubernetes"
)

// ---------------------------------------------------------------------------------------
// clusterStorage: the storage.Interface the generic registry runs on.
// ---------------------------------------------------------------------------------------

// TestClusterStorageNeedsCluster: without a cluster in the context every call is a 500.
func TestClusterStorageNeedsCluster(t *testing.T) {
	c, _, _ := stCluster(t, 0)
	cs := stStorage(t, c, corev1.Resource("configmaps"))
	ctx := context.Background()
	key := stKey(cs, "ns-a", "x")
	calls := map[string]func() error{
		"Create": func() error { return cs.Create(ctx, key, stConfigMap("ns-a", "x", nil), &corev1.ConfigMap{}, 0) },
		"Get":    func() error { return cs.Get(ctx, key, storage.GetOptions{}, &corev1.ConfigMap{}) },
		"GetList": func() error {
			return cs.GetList(ctx, cs.prefix, storage.ListOptions{Recursive: true, Predicate: storage.Everything}, &corev1.ConfigMapList{})
		},
		"GuaranteedUpdate": func() error {
			return cs.GuaranteedUpdate(ctx, key, &corev1.ConfigMap{}, false, nil, func(in runtime.Object, _ storage.ResponseMeta) (runtime.Object, *uint64, error) {
				return in, nil, nil
			}, nil)
		},
		"Delete": func() error {
			return cs.Delete(ctx, key, &corev1.ConfigMap{}, nil, storage.ValidateAllObjectFunc, nil, storage.DeleteOptions{})
		},
		"Watch": func() error {
			_, err := cs.Watch(ctx, cs.prefix, storage.ListOptions{Recursive: true, Predicate: storage.Everything})
			return err
		},
		"GetCurrentResourceVersion": func() error { _, err := cs.GetCurrentResourceVersion(ctx); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			if err := call(); !apierrors.IsInternalError(err) {
				t.Errorf("got %v, want an internal error", err)
			}
		})
	}
}

// TestClusterStorageCreateGetDelete runs one sequence against the configmaps storage.
func TestClusterStorageCreateGetDelete(t *testing.T) {
	c, _, _ := stCluster(t, 0)
	cs := stStorage(t, c, corev1.Resource("configmaps"))
	ctx := WithCluster(context.Background(), c)
	s := c.Store()
	key := stKey(cs, "ns-a", "a")
	var created corev1.ConfigMap
	errValidation := errors.New("deletion refused")
	steps := []struct {
		name    string
		do      func() error
		wantErr func(error) bool
		bump    bool // the cluster's resourceVersion moves
		check   func(t *testing.T)
	}{
		{name: "create with resourceVersion set", do: func() error {
			in := stConfigMap("ns-a", "a", nil)
			in.ResourceVersion = "5"
			return cs.Create(ctx, key, in, &corev1.ConfigMap{}, 0)
		}, wantErr: func(err error) bool { return err == storage.ErrResourceVersionSetOnCreate }},
		{name: "create", do: func() error {
			return cs.Create(ctx, key, stConfigMap("ns-a", "a", nil, "k", "v"), &created, 0)
		}, bump: true, check: func(t *testing.T) {
			if created.Name != "a" || created.Data["k"] != "v" || stRV(t, &created) != s.ResourceVersion() {
				t.Errorf("created %+v at %s, store at %d", created.ObjectMeta, created.ResourceVersion, s.ResourceVersion())
			}
		}},
		{name: "create existing", do: func() error {
			return cs.Create(ctx, key, stConfigMap("ns-a", "a", nil), &corev1.ConfigMap{}, 0)
		}, wantErr: storage.IsExist},
		{name: "get", do: func() error {
			var got corev1.ConfigMap
			if err := cs.Get(ctx, key, storage.GetOptions{}, &got); err != nil {
				return err
			}
			if !reflect.DeepEqual(&got, &created) {
				return fmt.Errorf("get = %+v, want %+v", got, created)
			}
			return nil
		}},
		{name: "get missing", do: func() error {
			return cs.Get(ctx, stKey(cs, "ns-a", "missing"), storage.GetOptions{}, &corev1.ConfigMap{})
		}, wantErr: storage.IsNotFound},
		{name: "get missing, ignoring not found", do: func() error {
			got := stConfigMap("junk", "junk", nil)
			if err := cs.Get(ctx, stKey(cs, "ns-a", "missing"), storage.GetOptions{IgnoreNotFound: true}, got); err != nil {
				return err
			}
			if !reflect.DeepEqual(got, &corev1.ConfigMap{}) {
				return fmt.Errorf("got %+v, want the zero value", got)
			}
			return nil
		}},
		{name: "get in another namespace", do: func() error {
			return cs.Get(ctx, stKey(cs, "ns-b", "a"), storage.GetOptions{}, &corev1.ConfigMap{})
		}, wantErr: storage.IsNotFound},
		{name: "delete missing", do: func() error {
			return cs.Delete(ctx, stKey(cs, "ns-a", "missing"), &corev1.ConfigMap{}, nil, storage.ValidateAllObjectFunc, nil, storage.DeleteOptions{})
		}, wantErr: storage.IsNotFound},
		{name: "delete with wrong uid precondition", do: func() error {
			return cs.Delete(ctx, key, &corev1.ConfigMap{}, storage.NewUIDPreconditions("bogus"), storage.ValidateAllObjectFunc, nil, storage.DeleteOptions{})
		}, wantErr: storage.IsInvalidObj},
		{name: "delete with stale resourceVersion precondition", do: func() error {
			rv := "1"
			return cs.Delete(ctx, key, &corev1.ConfigMap{}, &storage.Preconditions{ResourceVersion: &rv}, storage.ValidateAllObjectFunc, nil, storage.DeleteOptions{})
		}, wantErr: storage.IsInvalidObj},
		{name: "delete refused by validation", do: func() error {
			return cs.Delete(ctx, key, &corev1.ConfigMap{}, nil, func(context.Context, runtime.Object) error { return errValidation }, nil, storage.DeleteOptions{})
		}, wantErr: func(err error) bool { return err == errValidation }},
		{name: "delete with matching preconditions", do: func() error {
			var out corev1.ConfigMap
			rv := created.ResourceVersion
			pre := &storage.Preconditions{UID: &created.UID, ResourceVersion: &rv}
			if err := cs.Delete(ctx, key, &out, pre, storage.ValidateAllObjectFunc, nil, storage.DeleteOptions{}); err != nil {
				return err
			}
			// Like etcd3's conditionalDelete: the last state, at the revision of the delete.
			if out.Name != "a" || out.Data["k"] != "v" || stRV(t, &out) != s.ResourceVersion() {
				return fmt.Errorf("deleted object %+v at %s, store at %d", out.ObjectMeta, out.ResourceVersion, s.ResourceVersion())
			}
			return nil
		}, bump: true},
		{name: "get after delete", do: func() error {
			return cs.Get(ctx, key, storage.GetOptions{}, &corev1.ConfigMap{})
		}, wantErr: storage.IsNotFound},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			before := s.ResourceVersion()
			err := st.do()
			switch {
			case st.wantErr == nil && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case st.wantErr != nil && (err == nil || !st.wantErr(err)):
				t.Fatalf("got error %v, want another", err)
			}
			after := s.ResourceVersion()
			if st.bump && after != before+1 || !st.bump && after != before {
				t.Errorf("cluster resourceVersion %d -> %d (bump expected: %v)", before, after, st.bump)
			}
			if st.check != nil {
				st.check(t)
			}
		})
	}
}

// TestClusterStorageGuaranteedUpdate: the read-modify-write loop.
func TestClusterStorageGuaranteedUpdate(t *testing.T) {
	c, _, _ := stCluster(t, 0)
	cs := stStorage(t, c, corev1.Resource("configmaps"))
	ctx := WithCluster(context.Background(), c)
	s := c.Store()
	var base corev1.ConfigMap
	if err := cs.Create(ctx, stKey(cs, "ns-a", "a"), stConfigMap("ns-a", "a", nil, "k", "0"), &base, 0); err != nil {
		t.Fatal(err)
	}
	setData := func(k, v string) storage.UpdateFunc {
		return func(in runtime.Object, _ storage.ResponseMeta) (runtime.Object, *uint64, error) {
			cm := in.(*corev1.ConfigMap)
			if cm.Data == nil {
				cm.Data = map[string]string{}
			}
			cm.Data[k] = v
			return cm, nil, nil
		}
	}
	errRefused := errors.New("refused")
	tests := []struct {
		name           string
		key            string
		ignoreNotFound bool
		pre            func() *storage.Preconditions
		update         storage.UpdateFunc
		wantErr        func(error) bool
		bump           bool
		check          func(t *testing.T, out *corev1.ConfigMap)
	}{
		{name: "change", key: "a", update: func(in runtime.Object, res storage.ResponseMeta) (runtime.Object, *uint64, error) {
			if res.ResourceVersion != stRV(t, in) {
				return nil, nil, fmt.Errorf("ResponseMeta.ResourceVersion %d, object at %d", res.ResourceVersion, stRV(t, in))
			}
			return setData("k", "1")(in, res)
		}, bump: true, check: func(t *testing.T, out *corev1.ConfigMap) {
			if out.Data["k"] != "1" || stRV(t, out) != s.ResourceVersion() {
				t.Errorf("out %v at %s", out.Data, out.ResourceVersion)
			}
		}},
		{name: "no change is not written", key: "a", update: setData("k", "1"), check: func(t *testing.T, out *corev1.ConfigMap) {
			if stRV(t, out) != s.ResourceVersion() {
				t.Errorf("out at %s, store at %d", out.ResourceVersion, s.ResourceVersion())
			}
		}},
		{name: "matching preconditions", key: "a", pre: func() *storage.Preconditions { return storage.NewUIDPreconditions(string(base.UID)) },
			update: setData("k", "2"), bump: true},
		{name: "wrong uid precondition", key: "a", pre: func() *storage.Preconditions { return storage.NewUIDPreconditions("bogus") },
			update: setData("k", "3"), wantErr: storage.IsInvalidObj},
		{name: "stale resourceVersion precondition", key: "a", pre: func() *storage.Preconditions {
			rv := base.ResourceVersion
			return &storage.Preconditions{ResourceVersion: &rv}
		}, update: setData("k", "3"), wantErr: storage.IsInvalidObj},
		{name: "update function fails", key: "a", update: func(runtime.Object, storage.ResponseMeta) (runtime.Object, *uint64, error) {
			return nil, nil, errRefused
		}, wantErr: func(err error) bool { return err == errRefused }},
		{name: "missing object", key: "missing", update: setData("k", "1"), wantErr: storage.IsNotFound},
		{name: "missing object created when allowed", key: "created", ignoreNotFound: true,
			update: func(in runtime.Object, res storage.ResponseMeta) (runtime.Object, *uint64, error) {
				cm := in.(*corev1.ConfigMap)
				if cm.Name != "" || res.ResourceVersion != 0 {
					return nil, nil, fmt.Errorf("create-on-update got %+v at %d, want an empty object", cm.ObjectMeta, res.ResourceVersion)
				}
				cm.Namespace, cm.Name = "ns-a", "created"
				return setData("k", "new")(cm, res)
			}, bump: true, check: func(t *testing.T, out *corev1.ConfigMap) {
				if out.Name != "created" || out.Data["k"] != "new" || stRV(t, out) != s.ResourceVersion() {
					t.Errorf("created %+v %v", out.ObjectMeta, out.Data)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := s.ResourceVersion()
			var pre *storage.Preconditions
			if tt.pre != nil {
				pre = tt.pre()
			}
			var out corev1.ConfigMap
			err := cs.GuaranteedUpdate(ctx, stKey(cs, "ns-a", tt.key), &out, tt.ignoreNotFound, pre, tt.update, nil)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != nil && (err == nil || !tt.wantErr(err)):
				t.Fatalf("got error %v, want another", err)
			}
			after := s.ResourceVersion()
			if tt.bump && after != before+1 || !tt.bump && after != before {
				t.Errorf("cluster resourceVersion %d -> %d (bump expected: %v)", before, after, tt.bump)
			}
			if tt.check != nil {
				tt.check(t, &out)
			}
		})
	}
}

// TestClusterStorageRetriesOnConcurrentWrites: a write landing between GuaranteedUpdate's
// (or Delete's) read and its compare-and-swap makes it start over from the new state, as
// etcd3's store does; nothing is lost.
func TestClusterStorageRetriesOnConcurrentWrites(t *testing.T) {
	c, _, _ := stCluster(t, 0)
	cs := stStorage(t, c, corev1.Resource("configmaps"))
	ctx := WithCluster(context.Background(), c)
	s := c.Store()
	if err := cs.Create(ctx, stKey(cs, "ns-a", "a"), stConfigMap("ns-a", "a", nil, "k", "0"), &corev1.ConfigMap{}, 0); err != nil {
		t.Fatal(err)
	}
	interfere := func(k, v string) error {
		obj, err := s.get(cmGVR, "ns-a", "a")
		if err != nil {
			return err
		}
		cm := obj.(*corev1.ConfigMap)
		cm.Data[k] = v
		_, err = s.update(cmGVR, cm, stRV(t, cm))
		return err
	}

	calls := 0
	var out corev1.ConfigMap
	err := cs.GuaranteedUpdate(ctx, stKey(cs, "ns-a", "a"), &out, false, nil, func(in runtime.Object, _ storage.ResponseMeta) (runtime.Object, *uint64, error) {
		calls++
		if calls == 1 {
			if err := interfere("other", "x"); err != nil {
				return nil, nil, err
			}
		}
		cm := in.(*corev1.ConfigMap)
		cm.Data["k"] = "1"
		return cm, nil, nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 || out.Data["k"] != "1" || out.Data["other"] != "x" {
		t.Errorf("update function called %d times, result %v; want 2 calls and both changes", calls, out.Data)
	}

	validations := 0
	err = cs.Delete(ctx, stKey(cs, "ns-a", "a"), &out, nil, func(_ context.Context, obj runtime.Object) error {
		validations++
		if validations == 1 {
			return interfere("late", "y")
		}
		if obj.(*corev1.ConfigMap).Data["late"] != "y" {
			return fmt.Errorf("retry validated a stale object")
		}
		return nil
	}, nil, storage.DeleteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if validations != 2 || out.Data["late"] != "y" {
		t.Errorf("deletion validated %d times, deleted %v; want 2 and the latest state", validations, out.Data)
	}
}

// TestClusterStorageGetList: key order, scope, single-object lists, predicates and pages at
// the storage layer.
func TestClusterStorageGetList(t *testing.T) {
	c, _, _ := stCluster(t, 0)
	cs := stStorage(t, c, corev1.Resource("configmaps"))
	ctx := WithCluster(context.Background(), c)
	for _, k := range [][2]string{{"ns-b", "x"}, {"ns-a", "y"}, {"ns-c", "a"}, {"ns-a", "x"}, {"ns-b", "a"}} {
		labels := map[string]string{"name": k[1]}
		if err := cs.Create(ctx, stKey(cs, k[0], k[1]), stConfigMap(k[0], k[1], labels), &corev1.ConfigMap{}, 0); err != nil {
			t.Fatal(err)
		}
	}
	current := c.Store().ResourceVersion()
	sel := func(s string) storage.SelectionPredicate {
		return storage.SelectionPredicate{Label: labels.SelectorFromSet(labels.Set{"name": s}), Field: fields.Everything(), GetAttrs: getAttrs}
	}
	tests := []struct {
		name      string
		key       string
		recursive bool
		pred      storage.SelectionPredicate
		want      []string
	}{
		{"all namespaces", cs.prefix, true, storage.Everything, []string{"ns-a/x", "ns-a/y", "ns-b/a", "ns-b/x", "ns-c/a"}},
		{"all namespaces, trailing slash", cs.prefix + "/", true, storage.Everything, []string{"ns-a/x", "ns-a/y", "ns-b/a", "ns-b/x", "ns-c/a"}},
		{"one namespace", cs.prefix + "/ns-b", true, storage.Everything, []string{"ns-b/a", "ns-b/x"}},
		{"one namespace, trailing slash", cs.prefix + "/ns-b/", true, storage.Everything, []string{"ns-b/a", "ns-b/x"}},
		{"empty namespace", cs.prefix + "/ns-none", true, storage.Everything, nil},
		{"single object", stKey(cs, "ns-a", "y"), false, storage.Everything, []string{"ns-a/y"}},
		{"single missing object", stKey(cs, "ns-a", "nope"), false, storage.Everything, nil},
		{"label predicate", cs.prefix, true, sel("x"), []string{"ns-a/x", "ns-b/x"}},
		{"label predicate in a namespace", cs.prefix + "/ns-b", true, sel("a"), []string{"ns-b/a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var list corev1.ConfigMapList
			if err := cs.GetList(ctx, tt.key, storage.ListOptions{Recursive: tt.recursive, Predicate: tt.pred}, &list); err != nil {
				t.Fatal(err)
			}
			if got := stNames(t, &list); !reflect.DeepEqual(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Errorf("list = %v, want %v", got, tt.want)
			}
			if stListRV(t, &list) != current || list.Continue != "" {
				t.Errorf("list resourceVersion %s continue %q, want %d and none", list.ResourceVersion, list.Continue, current)
			}
		})
	}

	t.Run("pages", func(t *testing.T) {
		var got []string
		cont := ""
		for page := 0; ; page++ {
			pred := storage.Everything
			pred.Limit, pred.Continue = 2, cont
			var list corev1.ConfigMapList
			if err := cs.GetList(ctx, cs.prefix, storage.ListOptions{Recursive: true, Predicate: pred}, &list); err != nil {
				t.Fatal(err)
			}
			got = append(got, stNames(t, &list)...)
			if list.Continue == "" {
				break
			}
			if page > 5 {
				t.Fatal("pagination does not end")
			}
			cont = list.Continue
		}
		if want := []string{"ns-a/x", "ns-a/y", "ns-b/a", "ns-b/x", "ns-c/a"}; !reflect.DeepEqual(got, want) {
			t.Errorf("pages = %v, want %v", got, want)
		}
	})
}

// ---------------------------------------------------------------------------------------
// End to end: list semantics through client-go.
// ---------------------------------------------------------------------------------------

// TestLabelSelectors: equality, inequality, set and existence requirements, in lists and in
// the storage predicate.
func TestLabelSelectors(t *testing.T) {
	ctx := context.Background()
	c, _, cs := stCluster(t, 0)
	objs := []*corev1.ConfigMap{
		stConfigMap("ns-a", "a", map[string]string{"app": "web", "tier": "fe"}),
		stConfigMap("ns-a", "b", map[string]string{"app": "web", "tier": "be"}),
		stConfigMap("ns-a", "c", map[string]string{"app": "db"}),
		stConfigMap("ns-a", "d", nil),
		stConfigMap("ns-b", "e", map[string]string{"app": "web"}),
	}
	for _, o := range objs {
		if _, err := cs.CoreV1().ConfigMaps(o.Namespace).Create(ctx, o, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	st := stStorage(t, c, corev1.Resource("configmaps"))
	sctx := WithCluster(context.Background(), c)
	tests := []struct {
		ns, selector string
		want         []string
	}{
		{"", "app=web", []string{"ns-a/a", "ns-a/b", "ns-b/e"}},
		{"ns-a", "app=web", []string{"ns-a/a", "ns-a/b"}},
		{"", "app==web", []string{"ns-a/a", "ns-a/b", "ns-b/e"}},
		{"", "app!=web", []string{"ns-a/c", "ns-a/d"}},
		{"", "app in (web,db)", []string{"ns-a/a", "ns-a/b", "ns-a/c", "ns-b/e"}},
		{"", "app notin (web)", []string{"ns-a/c", "ns-a/d"}},
		{"", "tier", []string{"ns-a/a", "ns-a/b"}},
		{"", "!tier", []string{"ns-a/c", "ns-a/d", "ns-b/e"}},
		{"", "app=web,tier=be", []string{"ns-a/b"}},
		{"", "app=web,!tier", []string{"ns-b/e"}},
		{"", "app in (web),tier notin (fe)", []string{"ns-a/b", "ns-b/e"}},
		{"", "app=nope", nil},
		{"", "", []string{"ns-a/a", "ns-a/b", "ns-a/c", "ns-a/d", "ns-b/e"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s|%s", tt.ns, tt.selector), func(t *testing.T) {
			list, err := cs.CoreV1().ConfigMaps(tt.ns).List(ctx, metav1.ListOptions{LabelSelector: tt.selector})
			if err != nil {
				t.Fatal(err)
			}
			if got := stNames(t, list); !reflect.DeepEqual(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Errorf("list = %v, want %v", got, tt.want)
			}
			sel, err := labels.Parse(tt.selector)
			if err != nil {
				t.Fatal(err)
			}
			key := st.prefix
			if tt.ns != "" {
				key += "/" + tt.ns
			}
			var sl corev1.ConfigMapList
			pred := storage.SelectionPredicate{Label: sel, Field: fields.Everything(), GetAttrs: getAttrs}
			if err := st.GetList(sctx, key, storage.ListOptions{Recursive: true, Predicate: pred}, &sl); err != nil {
				t.Fatal(err)
			}
			if got := stNames(t, &sl); !reflect.DeepEqual(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Errorf("storage list = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("malformed selector", func(t *testing.T) {
		_, err := cs.CoreV1().ConfigMaps("").List(ctx, metav1.ListOptions{LabelSelector: "app in (web"})
		if !apierrors.IsBadRequest(err) {
			t.Errorf("got %v, want 400", err)
		}
	})
}

// TestFieldSelectors: the field labels each kind supports, and the 400 for others.
func TestFieldSelectors(t *testing.T) {
	ctx := context.Background()
	_, _, cs := stCluster(t, 0)
	mustCreate := func(obj runtime.Object, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	mustCreate(cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Spec: corev1.NodeSpec{Unschedulable: true}}, metav1.CreateOptions{}))
	mustCreate(cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n2"}}, metav1.CreateOptions{}))
	for _, p := range []struct{ ns, name, node string }{{"ns-a", "p1", "n1"}, {"ns-a", "p2", ""}, {"ns-b", "p3", "n2"}} {
		pod := stPod("", p.name, nil)
		pod.Spec.NodeName = p.node
		created, err := cs.CoreV1().Pods(p.ns).Create(ctx, pod, metav1.CreateOptions{})
		mustCreate(created, err)
		if p.node != "" {
			created.Status.Phase = corev1.PodRunning
			_, err := cs.CoreV1().Pods(p.ns).UpdateStatus(ctx, created, metav1.UpdateOptions{})
			mustCreate(nil, err)
		}
	}
	for _, e := range []struct{ name, pod, typ, reason string }{{"e1", "p1", "Normal", "Started"}, {"e2", "p2", "Warning", "FailedScheduling"}} {
		mustCreate(cs.CoreV1().Events("ns-a").Create(ctx, &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: e.name},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "ns-a", Name: e.pod, APIVersion: "v1"},
			Type:           e.typ, Reason: e.reason, Source: corev1.EventSource{Component: "kubelet"}}, metav1.CreateOptions{}))
	}
	mustCreate(cs.CoreV1().Secrets("ns-a").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s1"}, Type: corev1.SecretTypeOpaque}, metav1.CreateOptions{}))
	mustCreate(cs.CoreV1().Secrets("ns-a").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s2"}, Type: "example.com/custom"}, metav1.CreateOptions{}))
	mustCreate(cs.CoreV1().ConfigMaps("ns-a").Create(ctx, stConfigMap("", "c1", nil), metav1.CreateOptions{}))
	mustCreate(cs.CoreV1().ConfigMaps("ns-b").Create(ctx, stConfigMap("", "c1", nil), metav1.CreateOptions{}))
	mustCreate(cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "term", Finalizers: []string{"example.com/hold"}}}, metav1.CreateOptions{}))
	if err := cs.CoreV1().Namespaces().Delete(ctx, "term", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	list := map[string]func(ns string, o metav1.ListOptions) (runtime.Object, error){
		"pods": func(ns string, o metav1.ListOptions) (runtime.Object, error) {
			return cs.CoreV1().Pods(ns).List(ctx, o)
		},
		"events": func(ns string, o metav1.ListOptions) (runtime.Object, error) {
			return cs.CoreV1().Events(ns).List(ctx, o)
		},
		"secrets": func(ns string, o metav1.ListOptions) (runtime.Object, error) {
			return cs.CoreV1().Secrets(ns).List(ctx, o)
		},
		"configmaps": func(ns string, o metav1.ListOptions) (runtime.Object, error) {
			return cs.CoreV1().ConfigMaps(ns).List(ctx, o)
		},
		"namespaces": func(_ string, o metav1.ListOptions) (runtime.Object, error) {
			return cs.CoreV1().Namespaces().List(ctx, o)
		},
		"nodes": func(_ string, o metav1.ListOptions) (runtime.Object, error) { return cs.CoreV1().Nodes().List(ctx, o) },
	}
	tests := []struct {
		resource, ns, selector string
		want                   []string
		wantErr                string // an exact 400 message
	}{
		{resource: "pods", selector: "spec.nodeName=n1", want: []string{"ns-a/p1"}},
		{resource: "pods", selector: "spec.nodeName=", want: []string{"ns-a/p2"}},
		{resource: "pods", selector: "spec.nodeName!=n1", want: []string{"ns-a/p2", "ns-b/p3"}},
		{resource: "pods", selector: "status.phase=Running", want: []string{"ns-a/p1", "ns-b/p3"}},
		{resource: "pods", selector: "status.phase=Pending,metadata.namespace=ns-a", want: []string{"ns-a/p2"}},
		{resource: "pods", ns: "ns-b", selector: "status.phase=Running", want: []string{"ns-b/p3"}},
		{resource: "pods", selector: "spec.host=n2", want: []string{"ns-b/p3"}},
		{resource: "pods", selector: "metadata.name=p2", want: []string{"ns-a/p2"}},
		{resource: "pods", selector: "spec.foo=x", wantErr: "field label not supported: spec.foo"},
		{resource: "events", ns: "ns-a", selector: "involvedObject.name=p1", want: []string{"ns-a/e1"}},
		{resource: "events", selector: "type=Warning", want: []string{"ns-a/e2"}},
		{resource: "events", selector: "involvedObject.kind=Pod,reason=Started", want: []string{"ns-a/e1"}},
		{resource: "events", selector: "source=kubelet", want: []string{"ns-a/e1", "ns-a/e2"}},
		{resource: "events", selector: "involvedObject.foo=x", wantErr: "field label not supported: involvedObject.foo"},
		{resource: "secrets", selector: "type=example.com/custom", want: []string{"ns-a/s2"}},
		{resource: "secrets", selector: "type=Opaque", want: []string{"ns-a/s1"}},
		{resource: "secrets", selector: "type!=Opaque", want: []string{"ns-a/s2"}},
		{resource: "secrets", selector: "data.x=y", wantErr: "field label not supported: data.x"},
		{resource: "namespaces", selector: "status.phase=Terminating", want: []string{"/term"}},
		{resource: "namespaces", selector: "status.phase=Active,metadata.name=ns-a", want: []string{"/ns-a"}},
		{resource: "namespaces", selector: "metadata.namespace=x", wantErr: "field label not supported: metadata.namespace"},
		{resource: "nodes", selector: "spec.unschedulable=true", want: []string{"/n1"}},
		{resource: "nodes", selector: "spec.unschedulable=false", want: []string{"/n2"}},
		{resource: "nodes", selector: "metadata.name=n2", want: []string{"/n2"}},
		{resource: "nodes", selector: "metadata.namespace=", wantErr: "field label not supported: metadata.namespace"},
		{resource: "configmaps", selector: "metadata.name=c1", want: []string{"ns-a/c1", "ns-b/c1"}},
		{resource: "configmaps", selector: "metadata.namespace=ns-b", want: []string{"ns-b/c1"}},
		{resource: "configmaps", selector: "data.k=v", wantErr: `"data.k" is not a known field selector: only "metadata.name", "metadata.namespace"`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s|%s|%s", tt.resource, tt.ns, tt.selector), func(t *testing.T) {
			obj, err := list[tt.resource](tt.ns, metav1.ListOptions{FieldSelector: tt.selector})
			if tt.wantErr != "" {
				if !apierrors.IsBadRequest(err) || err.Error() != tt.wantErr {
					t.Fatalf("got %v, want 400 %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := stNames(t, obj); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("list = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("watch with an unsupported field", func(t *testing.T) {
		_, err := cs.CoreV1().Pods("").Watch(ctx, metav1.ListOptions{FieldSelector: "spec.foo=x"})
		if !apierrors.IsBadRequest(err) || err.Error() != "field label not supported: spec.foo" {
			t.Errorf("got %v, want 400", err)
		}
	})
}

// stPaginationCluster serves nine configmaps, three in each of ns-a, ns-b and ns-c, created
// out of key order; cm-0 and cm-2 carry even=true.
func stPaginationCluster(t *testing.T) (*Cluster, kubernetes.Interface) {
	t.Helper()
	c, _, cs := stCluster(t, 0)
	for _, i := range []int{2, 0, 1} {
		for _, ns := range []string{"ns-c", "ns-a", "ns-b"} {
			var l map[string]string
			if i%2 == 0 {
				l = map[string]string{"even": "true"}
			}
			if _, err := cs.CoreV1().ConfigMaps(ns).Create(context.Background(), stConfigMap("", fmt.Sprintf("cm-%d", i), l), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return c, cs
}

// TestPagination: limit and continue walk the objects in key order across namespaces; every
// page is at the first page's resourceVersion; remainingItemCount counts what is left when
// no selector is used.
func TestPagination(t *testing.T) {
	ctx := context.Background()
	_, cs := stPaginationCluster(t)
	all := []string{"ns-a/cm-0", "ns-a/cm-1", "ns-a/cm-2", "ns-b/cm-0", "ns-b/cm-1", "ns-b/cm-2", "ns-c/cm-0", "ns-c/cm-1", "ns-c/cm-2"}
	even := []string{"ns-a/cm-0", "ns-a/cm-2", "ns-b/cm-0", "ns-b/cm-2", "ns-c/cm-0", "ns-c/cm-2"}
	tests := []struct {
		name     string
		ns       string
		selector string
		limit    int64
		want     []string
	}{
		{"limit 1", "", "", 1, all},
		{"limit 2", "", "", 2, all},
		{"limit 4", "", "", 4, all},
		{"limit 8", "", "", 8, all},
		{"limit 9 (exactly all)", "", "", 9, all},
		{"limit 10", "", "", 10, all},
		{"no limit", "", "", 0, all},
		{"one namespace", "ns-b", "", 2, all[3:6]},
		{"label selector", "", "even=true", 2, even},
		{"label selector, limit 4", "", "even=true", 4, even},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			var firstRV string
			cont := ""
			for page := 0; ; page++ {
				list, err := cs.CoreV1().ConfigMaps(tt.ns).List(ctx, metav1.ListOptions{Limit: tt.limit, Continue: cont, LabelSelector: tt.selector})
				if err != nil {
					t.Fatal(err)
				}
				names := stNames(t, list)
				got = append(got, names...)
				if page == 0 {
					firstRV = list.ResourceVersion
				} else if list.ResourceVersion != firstRV {
					t.Errorf("page %d at resourceVersion %s, first page at %s", page, list.ResourceVersion, firstRV)
				}
				if list.Continue == "" {
					if list.RemainingItemCount != nil {
						t.Errorf("last page has remainingItemCount %d", *list.RemainingItemCount)
					}
					break
				}
				if int64(len(names)) != tt.limit {
					t.Errorf("page %d has %d items, want %d", page, len(names), tt.limit)
				}
				_, tokRV, err := storage.DecodeContinue(list.Continue, "/")
				if err != nil || strconv.FormatInt(tokRV, 10) != firstRV {
					t.Errorf("continue token %q: rv %d err %v, want rv %s", list.Continue, tokRV, err, firstRV)
				}
				if tt.selector == "" {
					want := int64(len(tt.want) - len(got))
					if list.RemainingItemCount == nil || *list.RemainingItemCount != want {
						t.Errorf("page %d remainingItemCount %v, want %d", page, list.RemainingItemCount, want)
					}
				} else if list.RemainingItemCount != nil {
					t.Errorf("page %d remainingItemCount %d with a selector, want none", page, *list.RemainingItemCount)
				}
				if page > len(tt.want) {
					t.Fatal("pagination does not end")
				}
				cont = list.Continue
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("pages = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestPaginationIsConsistentSnapshot: pages after the first show the collection as of the
// first page's resourceVersion, whatever was written in between.
func TestPaginationIsConsistentSnapshot(t *testing.T) {
	ctx := context.Background()
	_, cs := stPaginationCluster(t)
	first, err := cs.CoreV1().ConfigMaps("").List(ctx, metav1.ListOptions{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	updated, err := cs.CoreV1().ConfigMaps("ns-b").Get(ctx, "cm-2", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	oldRV := updated.ResourceVersion
	updated.Data = map[string]string{"changed": "yes"}
	if _, err := cs.CoreV1().ConfigMaps("ns-b").Update(ctx, updated, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().ConfigMaps("ns-b").Create(ctx, stConfigMap("", "cm-00", nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cs.CoreV1().ConfigMaps("ns-c").Delete(ctx, "cm-1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	var got []string
	cont := first.Continue
	for cont != "" {
		list, err := cs.CoreV1().ConfigMaps("").List(ctx, metav1.ListOptions{Limit: 3, Continue: cont})
		if err != nil {
			t.Fatal(err)
		}
		if list.ResourceVersion != first.ResourceVersion {
			t.Errorf("page at resourceVersion %s, first page at %s", list.ResourceVersion, first.ResourceVersion)
		}
		for _, it := range list.Items {
			got = append(got, it.Namespace+"/"+it.Name)
			if it.Namespace == "ns-b" && it.Name == "cm-2" && (it.ResourceVersion != oldRV || it.Data["changed"] != "") {
				t.Errorf("ns-b/cm-2 shown as updated after the snapshot (rv %s, want %s)", it.ResourceVersion, oldRV)
			}
		}
		cont = list.Continue
	}
	want := []string{"ns-b/cm-0", "ns-b/cm-1", "ns-b/cm-2", "ns-c/cm-0", "ns-c/cm-1", "ns-c/cm-2"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("later pages = %v, want the snapshot %v", got, want)
	}
}

// TestInvalidContinue: malformed continue tokens, and a resourceVersion with a continue
// token, are 400s.
func TestInvalidContinue(t *testing.T) {
	ctx := context.Background()
	_, cs := stPaginationCluster(t)
	first, err := cs.CoreV1().ConfigMaps("").List(ctx, metav1.ListOptions{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name    string
		opts    metav1.ListOptions
		wantMsg string // "" : derived from storage.DecodeContinue
	}{
		{name: "not base64", opts: metav1.ListOptions{Continue: "not a token!"}},
		{name: "not JSON", opts: metav1.ListOptions{Continue: enc("not json")}},
		{name: "unknown version", opts: metav1.ListOptions{Continue: enc(`{"v":"meta.k8s.io/v2","rv":5,"start":"ns-a/x"}`)}},
		{name: "zero resourceVersion", opts: metav1.ListOptions{Continue: enc(`{"v":"meta.k8s.io/v1","rv":0,"start":"ns-a/x"}`)}},
		{name: "empty start key", opts: metav1.ListOptions{Continue: enc(`{"v":"meta.k8s.io/v1","rv":5,"start":""}`)}},
		{name: "path traversal", opts: metav1.ListOptions{Continue: enc(`{"v":"meta.k8s.io/v1","rv":5,"start":"../secrets/x"}`)}},
		{name: "resourceVersion with continue", opts: metav1.ListOptions{Continue: first.Continue, ResourceVersion: first.ResourceVersion},
			wantMsg: "specifying resource version is not allowed when using continue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.wantMsg
			if want == "" {
				_, _, derr := storage.DecodeContinue(tt.opts.Continue, "/registry/configmaps/")
				if derr == nil {
					t.Fatalf("token %q decodes", tt.opts.Continue)
				}
				want = "invalid continue token: " + derr.Error()
			}
			tt.opts.Limit = 2
			_, err := cs.CoreV1().ConfigMaps("").List(ctx, tt.opts)
			if !apierrors.IsBadRequest(err) || err.Error() != want {
				t.Errorf("got %v, want 400 %q", err, want)
			}
		})
	}
}

// TestListResourceVersionTooLarge: a list that must be at least as new as a resourceVersion
// the cluster has not reached fails with what storage.NewTooLargeResourceVersionError
// becomes through the handler: 504, reason Timeout, message "Timeout: Too large resource
// version: N, current: M", cause ResourceVersionTooLarge, retry after 1s (the watch cache
// answers so after waiting 3s).
func TestListResourceVersionTooLarge(t *testing.T) {
	ctx := context.Background()
	c, _, cs := stCluster(t, 0)
	current := c.Store().ResourceVersion()
	ahead := strconv.FormatUint(current+1000, 10)
	tests := []struct {
		name, rv, match string
		wantErr         bool
	}{
		{"notOlderThan ahead", ahead, string(metav1.ResourceVersionMatchNotOlderThan), true},
		{"legacy ahead", ahead, "", true},
		{"notOlderThan current", strconv.FormatUint(current, 10), string(metav1.ResourceVersionMatchNotOlderThan), false},
		{"legacy current", strconv.FormatUint(current, 10), "", false},
		{"any (0)", "0", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := cs.CoreV1().RESTClient().Get().Namespace("ns-a").Resource("configmaps").MaxRetries(0).Param("resourceVersion", tt.rv)
			if tt.match != "" {
				req = req.Param("resourceVersionMatch", tt.match)
			}
			var list corev1.ConfigMapList
			err := req.Do(ctx).Into(&list)
			if !tt.wantErr {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var se *apierrors.StatusError
			if !errors.As(err, &se) {
				t.Fatalf("got %v, want a status error", err)
			}
			st := se.ErrStatus
			want := fmt.Sprintf("Timeout: Too large resource version: %s, current: %d", ahead, current)
			if st.Code != 504 || st.Reason != metav1.StatusReasonTimeout || st.Message != want {
				t.Errorf("got %d %s %q, want 504 Timeout %q", st.Code, st.Reason, st.Message, want)
			}
			if st.Details == nil || st.Details.RetryAfterSeconds != 1 || len(st.Details.Causes) != 1 ||
				st.Details.Causes[0].Type != metav1.CauseTypeResourceVersionTooLarge {
				t.Errorf("details %+v, want retryAfterSeconds 1 and a ResourceVersionTooLarge cause", st.Details)
			}
			if !storage.IsTooLargeResourceVersion(err) || !apierrors.IsTimeout(err) {
				t.Errorf("error not recognised as too large resource version / timeout: %v", err)
			}
		})
	}
}
