package mockapi

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
)

var servicesGVR = corev1.SchemeGroupVersion.WithResource("services")

const (
	nodePortMin = 30000
	nodePortMax = 32767
)

// allocateServiceAddresses is the service registry's allocation on create: a free cluster IP
// from the cluster's service range, the IP family fields, and free node ports.
func allocateServiceAddresses(ctx context.Context, obj runtime.Object, _ *metav1.CreateOptions) (genericregistry.FinishFunc, error) {
	svc, ok := obj.(*corev1.Service)
	c := ClusterFrom(ctx)
	if !ok || c == nil {
		return func(context.Context, bool) {}, nil
	}
	noop := func(context.Context, bool) {}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return noop, nil
	}
	if svc.Spec.IPFamilyPolicy == nil {
		p := corev1.IPFamilyPolicySingleStack
		svc.Spec.IPFamilyPolicy = &p
	}
	if len(svc.Spec.IPFamilies) == 0 {
		svc.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol}
	}
	used, usedPorts := c.serviceAllocations()
	switch ip := svc.Spec.ClusterIP; {
	case ip == corev1.ClusterIPNone:
		svc.Spec.ClusterIPs = []string{corev1.ClusterIPNone}
	case ip != "":
		prefix := c.serviceCIDR()
		addr, err := netip.ParseAddr(ip)
		fld := field.NewPath("spec", "clusterIPs").Index(0)
		switch {
		case err != nil:
			return nil, invalidService(svc, field.Invalid(fld, ip, "must be a valid IP address"))
		case !prefix.Contains(addr):
			return nil, invalidService(svc, field.Invalid(fld, ip, fmt.Sprintf("failed to allocate IP %s: the provided IP (%s) is not in the valid range. The range of valid IPs is %s", ip, ip, prefix)))
		case used[addr]:
			return nil, invalidService(svc, field.Invalid(fld, ip, fmt.Sprintf("failed to allocate IP %s: provided IP is already allocated", ip)))
		}
		svc.Spec.ClusterIPs = []string{ip}
	default:
		addr, err := c.freeServiceIP(used)
		if err != nil {
			return nil, apierrors.NewInternalError(err)
		}
		svc.Spec.ClusterIP = addr.String()
		svc.Spec.ClusterIPs = []string{svc.Spec.ClusterIP}
	}
	if svc.Spec.Type == corev1.ServiceTypeNodePort || svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
		for i := range svc.Spec.Ports {
			if svc.Spec.Ports[i].NodePort == 0 {
				p := freeNodePort(usedPorts)
				svc.Spec.Ports[i].NodePort = p
				usedPorts[p] = true
			}
		}
	}
	return noop, nil
}

func invalidService(svc *corev1.Service, err *field.Error) error {
	return apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("Service").GroupKind(), svc.Name, field.ErrorList{err})
}

// serviceCIDR is the cluster's service range, told by its kubernetes Service: the first
// address of 10.96.0.0/12 on kubeadm-like clusters, of 10.43.0.0/16 on k3s and rke2.
func (c *Cluster) serviceCIDR() netip.Prefix {
	def := netip.MustParsePrefix("10.96.0.0/12")
	obj, err := c.store.get(servicesGVR, metav1.NamespaceDefault, "kubernetes")
	if err != nil {
		return def
	}
	addr, err := netip.ParseAddr(obj.(*corev1.Service).Spec.ClusterIP)
	if err != nil || addr == def.Addr().Next() {
		return def
	}
	p, _ := addr.Prefix(16)
	return p
}

func (c *Cluster) serviceAllocations() (map[netip.Addr]bool, map[int32]bool) {
	ips, ports := map[netip.Addr]bool{}, map[int32]bool{}
	items, _, err := c.store.list(servicesGVR, corev1.SchemeGroupVersion.WithKind("Service"), "")
	if err != nil {
		return ips, ports
	}
	for _, obj := range items {
		s := obj.(*corev1.Service)
		for _, ip := range append([]string{s.Spec.ClusterIP}, s.Spec.ClusterIPs...) {
			if a, err := netip.ParseAddr(ip); err == nil {
				ips[a] = true
			}
		}
		for _, p := range s.Spec.Ports {
			if p.NodePort != 0 {
				ports[p.NodePort] = true
			}
		}
	}
	return ips, ports
}

// freeServiceIP picks a random free address, as the allocator does, skipping the network
// and first addresses.
func (c *Cluster) freeServiceIP(used map[netip.Addr]bool) (netip.Addr, error) {
	prefix := c.serviceCIDR()
	size := 1 << (32 - prefix.Bits())
	base := prefix.Addr().As4()
	start := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	for tries := 0; tries < 4*size; tries++ {
		n := start + 2 + uint32(rand.IntN(size-3))
		a := netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
		if !used[a] {
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("failed to allocate a serviceIP: range is full")
}

func freeNodePort(used map[int32]bool) int32 {
	for {
		p := int32(nodePortMin + rand.IntN(nodePortMax-nodePortMin+1))
		if !used[p] {
			return p
		}
	}
}
