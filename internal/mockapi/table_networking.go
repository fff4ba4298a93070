package mockapi

import (
	"fmt"
	"strconv"
	"strings"

	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Printers for networking.k8s.io and discovery.k8s.io.
func addNetworkingTablePrinters(m map[schema.GroupResource]*tablePrinter) {
	networking := func(resource string) schema.GroupResource {
		return schema.GroupResource{Group: "networking.k8s.io", Resource: resource}
	}

	m[networking("ingresses")] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("Class", "string", "The name of the IngressClass resource that should be used for additional configuration"),
		tableColumn("Hosts", "string", "Hosts that incoming requests are matched against before the ingress rule"),
		tableColumn("Address", "string", "Address is a list containing ingress points for the load-balancer"),
		tableColumn("Ports", "string", "Ports of TLS configurations that open"),
		tableAgeColumn,
	}, tableCells(tableIngressCells))

	m[networking("ingressclasses")] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("Controller", "string", "Controller that is responsible for handling this class"),
		tableColumn("Parameters", "string", "A reference to a resource with additional parameters"),
		tableAgeColumn,
	}, tableCells(func(ic *networkingv1.IngressClass) []interface{} {
		name := ic.Name
		if ic.Annotations[networkingv1.AnnotationIsDefaultIngressClass] == "true" {
			name += " (default)"
		}
		params := "<none>"
		if p := ic.Spec.Parameters; p != nil {
			params = p.Kind
			if p.APIGroup != nil {
				params += "." + *p.APIGroup
			}
			params += "/" + p.Name
		}
		return []interface{}{name, ic.Spec.Controller, params, tableAge(ic.CreationTimestamp)}
	}))

	m[networking("networkpolicies")] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("Pod-Selector", "string", networkingv1.NetworkPolicySpec{}.SwaggerDoc()["podSelector"]),
		tableAgeColumn,
	}, tableCells(func(np *networkingv1.NetworkPolicy) []interface{} {
		return []interface{}{np.Name, tableSelector(&np.Spec.PodSelector), tableAge(np.CreationTimestamp)}
	}))

	m[networking("servicecidrs")] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("CIDRs", "string", networkingv1.ServiceCIDRSpec{}.SwaggerDoc()["cidrs"]),
		tableAgeColumn,
	}, tableCells(func(c *networkingv1.ServiceCIDR) []interface{} {
		return []interface{}{c.Name, strings.Join(c.Spec.CIDRs, ","), tableAge(c.CreationTimestamp)}
	}))

	// Upstream declares two columns but emits three cells (the age); we match it.
	m[networking("ipaddresses")] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("ParentRef", "string", networkingv1.IPAddressSpec{}.SwaggerDoc()["parentRef"]),
	}, tableCells(func(ip *networkingv1.IPAddress) []interface{} {
		parent := "<none>"
		if ref := ip.Spec.ParentRef; ref != nil {
			parent = strings.ToLower(schema.GroupResource{Group: ref.Group, Resource: ref.Resource}.String())
			if ref.Namespace != "" {
				parent += "/" + ref.Namespace
			}
			parent += "/" + ref.Name
		}
		return []interface{}{ip.Name, parent, tableAge(ip.CreationTimestamp)}
	}))

	m[schema.GroupResource{Group: "discovery.k8s.io", Resource: "endpointslices"}] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("AddressType", "string", discoveryv1.EndpointSlice{}.SwaggerDoc()["addressType"]),
		tableColumn("Ports", "string", discoveryv1.EndpointSlice{}.SwaggerDoc()["ports"]),
		tableColumn("Endpoints", "string", discoveryv1.EndpointSlice{}.SwaggerDoc()["endpoints"]),
		tableAgeColumn,
	}, tableCells(func(es *discoveryv1.EndpointSlice) []interface{} {
		ports := make([]string, 0, len(es.Ports))
		for _, p := range es.Ports {
			switch {
			case p.Port != nil:
				ports = append(ports, strconv.Itoa(int(*p.Port)))
			case p.Name != nil:
				ports = append(ports, *p.Name)
			default:
				ports = append(ports, "*")
			}
		}
		var addresses []string
		for _, e := range es.Endpoints {
			addresses = append(addresses, e.Addresses...)
		}
		return []interface{}{es.Name, string(es.AddressType), tableListWithMore(ports, 3, "<unset>"),
			tableListWithMore(addresses, 3, "<unset>"), tableAge(es.CreationTimestamp)}
	}))
}

func tableIngressCells(ing *networkingv1.Ingress) []interface{} {
	class := "<none>"
	if ing.Spec.IngressClassName != nil {
		class = *ing.Spec.IngressClassName
	}

	// Up to three hosts; the "more" count is over all rules, hostless ones included.
	var hosts []string
	more := false
	for _, rule := range ing.Spec.Rules {
		if len(hosts) == 3 {
			more = true
		}
		if !more && rule.Host != "" {
			hosts = append(hosts, rule.Host)
		}
	}
	hostsCell := strings.Join(hosts, ",")
	switch {
	case len(hosts) == 0:
		hostsCell = "*"
	case more:
		hostsCell = fmt.Sprintf("%s + %d more...", hostsCell, len(ing.Spec.Rules)-3)
	}

	// Sorted unique IPs or hostnames; never clipped since the server prints wide.
	address := make([]string, len(ing.Status.LoadBalancer.Ingress))
	for i, in := range ing.Status.LoadBalancer.Ingress {
		address[i] = in.IP
		if in.IP == "" {
			address[i] = in.Hostname
		}
	}

	ports := "80"
	if len(ing.Spec.TLS) != 0 {
		ports = "80, 443"
	}
	return []interface{}{ing.Name, class, hostsCell, strings.Join(tableSortedSet(address), ","), ports, tableAge(ing.CreationTimestamp)}
}
