package tunnel

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// The caches of Rancher's user controllers for one cluster (managementuser/controllers.go
// registerCaches, pkg/impersonation, cavalidator), as client-go informers over the tunnel:
// client-go ≥ 0.35 reflectors open with a watch-list request (sendInitialEvents) and fall
// back to LIST only if it errors, which is what the recorded v2.15 traffic shows. Nodes are
// the nodesyncer's (production Rancher; the recorded run lacked it) and feed clusterdeploy.
// APIServices go through a dynamic informer, in JSON: client-go has no typed client for them
// (Rancher's generated kube-aggregator clients ask for protobuf).

const (
	stvAggregationSecret = "stv-aggregation"
)

type clusterInformers struct {
	cluster, impersonation, stv informers.SharedInformerFactory
	dynamic                     dynamicinformer.DynamicSharedInformerFactory
	nodes                       cache.SharedIndexInformer
	stvSecrets                  cache.SharedIndexInformer
	cancel                      context.CancelFunc
	done                        chan struct{}
}

// apiServices is the APIService resource Rancher watches.
var apiServices = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}

func newClusterInformers(cs kubernetes.Interface, dyn dynamic.Interface) *clusterInformers {
	// No resync: Rancher's controllers resync from their own queues, not the caches.
	const resync time.Duration = 0
	inf := &clusterInformers{
		cluster:       informers.NewSharedInformerFactory(cs, resync),
		dynamic:       dynamicinformer.NewDynamicSharedInformerFactory(dyn, resync),
		impersonation: informers.NewSharedInformerFactoryWithOptions(cs, resync, informers.WithNamespace(impersonationNamespace)),
		stv: informers.NewSharedInformerFactoryWithOptions(cs, resync, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.AndSelectors(
				fields.OneTermEqualSelector("metadata.namespace", "cattle-system"),
				fields.OneTermEqualSelector("metadata.name", stvAggregationSecret),
			).String()
		})),
	}
	core, rbac := inf.cluster.Core().V1(), inf.cluster.Rbac().V1()
	core.Namespaces().Informer()
	inf.nodes = core.Nodes().Informer()
	core.ResourceQuotas().Informer()
	core.LimitRanges().Informer()
	rbac.ClusterRoles().Informer()
	rbac.ClusterRoleBindings().Informer()
	rbac.Roles().Informer()
	rbac.RoleBindings().Informer()
	inf.impersonation.Core().V1().Secrets().Informer()
	inf.impersonation.Core().V1().ServiceAccounts().Informer()
	inf.stvSecrets = inf.stv.Core().V1().Secrets().Informer()
	inf.dynamic.ForResource(apiServices).Informer()
	return inf
}

func (inf *clusterInformers) start(ctx context.Context) {
	ctx, inf.cancel = context.WithCancel(ctx)
	inf.done = make(chan struct{})
	for _, f := range inf.factories() {
		f.Start(ctx.Done())
	}
	inf.dynamic.Start(ctx.Done())
	go func() {
		<-ctx.Done()
		for _, f := range inf.factories() {
			f.Shutdown()
		}
		inf.dynamic.Shutdown()
		close(inf.done)
	}()
}

func (inf *clusterInformers) factories() []informers.SharedInformerFactory {
	return []informers.SharedInformerFactory{inf.cluster, inf.impersonation, inf.stv}
}

// waitForSync reports whether every cache synced before ctx ended.
func (inf *clusterInformers) waitForSync(ctx context.Context) bool {
	for _, f := range inf.factories() {
		for _, ok := range f.WaitForCacheSync(ctx.Done()) {
			if !ok {
				return false
			}
		}
	}
	for _, ok := range inf.dynamic.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return false
		}
	}
	return true
}

func (inf *clusterInformers) stop() {
	if inf.cancel != nil {
		inf.cancel()
		<-inf.done
	}
}

// nodeCount is the number of nodes in the nodesyncer's cache.
func (inf *clusterInformers) nodeCount() int {
	if inf == nil || inf.nodes == nil {
		return 0
	}
	return len(inf.nodes.GetStore().ListKeys())
}

// strictCACheck is cavalidator's reading of stv-aggregation: the agent found Rancher's CA
// valid (CATTLE_CACERTS_VALID=true).
func (inf *clusterInformers) strictCACheck() bool {
	for _, o := range inf.stvSecrets.GetStore().List() {
		if s, ok := o.(*corev1.Secret); ok && string(s.Data["CATTLE_CACERTS_VALID"]) == "true" {
			return true
		}
	}
	return false
}
