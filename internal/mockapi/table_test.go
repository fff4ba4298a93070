package mockapi

import (
	"context"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// tableUpstreamColumns are the header names of the Kubernetes 1.36 printers
// (pkg/printers/internalversion, plus the aggregator's APIService convertor), in order.
// A trailing "*" marks a priority-1 (wide) column.
var tableUpstreamColumns = map[schema.GroupResource][]string{
	tableGR("", "pods"):                   {"Name", "Ready", "Status", "Restarts", "Age", "IP*", "Node*", "Nominated Node*", "Readiness Gates*"},
	tableGR("", "nodes"):                  {"Name", "Status", "Roles", "Age", "Version", "Internal-IP*", "External-IP*", "OS-Image*", "Kernel-Version*", "Container-Runtime*"},
	tableGR("", "namespaces"):             {"Name", "Status", "Age"},
	tableGR("", "services"):               {"Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age", "Selector*"},
	tableGR("", "endpoints"):              {"Name", "Endpoints", "Age"},
	tableGR("", "events"):                 {"Last Seen", "Type", "Reason", "Object", "Subobject*", "Source*", "Message", "First Seen*", "Count*", "Name*"},
	tableGR("events.k8s.io", "events"):    {"Last Seen", "Type", "Reason", "Object", "Subobject*", "Source*", "Message", "First Seen*", "Count*", "Name*"},
	tableGR("", "configmaps"):             {"Name", "Data", "Age"},
	tableGR("", "secrets"):                {"Name", "Type", "Data", "Age"},
	tableGR("", "serviceaccounts"):        {"Name", "Age"},
	tableGR("", "persistentvolumes"):      {"Name", "Capacity", "Access Modes", "Reclaim Policy", "Status", "Claim", "StorageClass", "VolumeAttributesClass", "Reason", "Age", "VolumeMode*"},
	tableGR("", "persistentvolumeclaims"): {"Name", "Status", "Volume", "Capacity", "Access Modes", "StorageClass", "VolumeAttributesClass", "Age", "VolumeMode*"},
	tableGR("", "replicationcontrollers"): {"Name", "Desired", "Current", "Ready", "Age", "Containers*", "Images*", "Selector*"},
	tableGR("", "podtemplates"):           {"Name", "Containers", "Images", "Pod Labels"},
	tableGR("", "resourcequotas"):         {"Name", "Request", "Limit", "Age"},
	tableGR("", "componentstatuses"):      {"Name", "Status", "Message", "Error"},

	tableGR("apps", "deployments"):         {"Name", "Ready", "Up-to-date", "Available", "Age", "Containers*", "Images*", "Selector*"},
	tableGR("apps", "replicasets"):         {"Name", "Desired", "Current", "Ready", "Age", "Containers*", "Images*", "Selector*"},
	tableGR("apps", "daemonsets"):          {"Name", "Desired", "Current", "Ready", "Up-to-date", "Available", "Node Selector", "Age", "Containers*", "Images*", "Selector*"},
	tableGR("apps", "statefulsets"):        {"Name", "Ready", "Age", "Containers*", "Images*"},
	tableGR("apps", "controllerrevisions"): {"Name", "Controller", "Revision", "Age"},

	tableGR("batch", "jobs"):                           {"Name", "Status", "Completions", "Duration", "Age", "Containers*", "Images*", "Selector*"},
	tableGR("batch", "cronjobs"):                       {"Name", "Schedule", "Timezone", "Suspend", "Active", "Last Schedule", "Age", "Containers*", "Images*", "Selector*"},
	tableGR("autoscaling", "horizontalpodautoscalers"): {"Name", "Reference", "Targets", "MinPods", "MaxPods", "Replicas", "Age"},
	tableGR("policy", "poddisruptionbudgets"):          {"Name", "Min Available", "Max Unavailable", "Allowed Disruptions", "Age"},

	tableGR("storage.k8s.io", "storageclasses"):          {"Name", "Provisioner", "ReclaimPolicy", "VolumeBindingMode", "AllowVolumeExpansion", "Age"},
	tableGR("storage.k8s.io", "csidrivers"):              {"Name", "AttachRequired", "PodInfoOnMount", "StorageCapacity", "TokenRequests", "RequiresRepublish", "Modes", "Age"},
	tableGR("storage.k8s.io", "csinodes"):                {"Name", "Drivers", "Age"},
	tableGR("storage.k8s.io", "volumeattachments"):       {"Name", "Attacher", "PV", "Node", "Attached", "Age"},
	tableGR("storage.k8s.io", "volumeattributesclasses"): {"Name", "DriverName", "Age"},

	tableGR("networking.k8s.io", "ingresses"):       {"Name", "Class", "Hosts", "Address", "Ports", "Age"},
	tableGR("networking.k8s.io", "ingressclasses"):  {"Name", "Controller", "Parameters", "Age"},
	tableGR("networking.k8s.io", "networkpolicies"): {"Name", "Pod-Selector", "Age"},
	tableGR("networking.k8s.io", "servicecidrs"):    {"Name", "CIDRs", "Age"},
	tableGR("networking.k8s.io", "ipaddresses"):     {"Name", "ParentRef"},
	tableGR("discovery.k8s.io", "endpointslices"):   {"Name", "AddressType", "Ports", "Endpoints", "Age"},

	tableGR("rbac.authorization.k8s.io", "rolebindings"):                         {"Name", "Role", "Age", "Users*", "Groups*", "ServiceAccounts*"},
	tableGR("rbac.authorization.k8s.io", "clusterrolebindings"):                  {"Name", "Role", "Age", "Users*", "Groups*", "ServiceAccounts*"},
	tableGR("scheduling.k8s.io", "priorityclasses"):                              {"Name", "Value", "Global-Default", "Age", "PreemptionPolicy"},
	tableGR("coordination.k8s.io", "leases"):                                     {"Name", "Holder", "Age"},
	tableGR("node.k8s.io", "runtimeclasses"):                                     {"Name", "Handler", "Age"},
	tableGR("admissionregistration.k8s.io", "mutatingwebhookconfigurations"):     {"Name", "Webhooks", "Age"},
	tableGR("admissionregistration.k8s.io", "validatingwebhookconfigurations"):   {"Name", "Webhooks", "Age"},
	tableGR("admissionregistration.k8s.io", "validatingadmissionpolicies"):       {"Name", "Validations", "ParamKind", "Age"},
	tableGR("admissionregistration.k8s.io", "validatingadmissionpolicybindings"): {"Name", "PolicyName", "ParamRef", "Age"},
	tableGR("admissionregistration.k8s.io", "mutatingadmissionpolicies"):         {"Name", "Mutations", "ParamKind", "Age"},
	tableGR("admissionregistration.k8s.io", "mutatingadmissionpolicybindings"):   {"Name", "PolicyName", "ParamRef", "Age"},
	tableGR("resource.k8s.io", "deviceclasses"):                                  {"Name", "Age"},
	tableGR("resource.k8s.io", "resourceclaims"):                                 {"Name", "State", "Age"},
	tableGR("resource.k8s.io", "resourceclaimtemplates"):                         {"Name", "Age"},
	tableGR("resource.k8s.io", "resourceslices"):                                 {"Name", "Node", "Driver", "Pool", "Age"},
	tableGR("certificates.k8s.io", "certificatesigningrequests"):                 {"Name", "Age", "SignerName", "Requestor", "RequestedDuration", "Condition"},
	tableGR("flowcontrol.apiserver.k8s.io", "flowschemas"):                       {"Name", "PriorityLevel", "MatchingPrecedence", "DistinguisherMethod", "Age", "MissingPL"},
	tableGR("flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations"):       {"Name", "Type", "NominalConcurrencyShares", "Queues", "HandSize", "QueueLengthLimit", "Age"},
	tableGR("apiregistration.k8s.io", "apiservices"):                             {"Name", "Service", "Available", "Age"},
}

// Resources a 1.36 server serves with rest.NewDefaultTableConvertor.
var tableDefaultConvertorResources = []schema.GroupResource{
	tableGR("rbac.authorization.k8s.io", "roles"),
	tableGR("rbac.authorization.k8s.io", "clusterroles"),
	tableGR("", "limitranges"),
	tableGR("storage.k8s.io", "csistoragecapacities"),
	tableGR("apiextensions.k8s.io", "customresourcedefinitions"),
	tableGR("example.com", "widgets"),
}

func tableConvert(t *testing.T, gr schema.GroupResource, obj runtime.Object, opts runtime.Object) *metav1.Table {
	t.Helper()
	table, err := tableConvertorFor(gr).ConvertToTable(context.Background(), obj, opts)
	if err != nil {
		t.Fatalf("ConvertToTable(%s, %T): %v", gr, obj, err)
	}
	return table
}

func TestTableColumnNamesMatchUpstream(t *testing.T) {
	for gr, want := range tableUpstreamColumns {
		p, ok := tablePrinters[gr]
		if !ok {
			t.Errorf("%s: no dedicated printer", gr)
			continue
		}
		var got []string
		for _, c := range p.columns {
			name := c.Name
			if c.Priority == 1 {
				name += "*"
			}
			got = append(got, name)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s columns:\n got  %q\n want %q", gr, got, want)
		}
	}
	for gr := range tablePrinters {
		if _, ok := tableUpstreamColumns[gr]; !ok {
			t.Errorf("%s: printer without expected upstream columns in this test", gr)
		}
	}
}

func TestTableColumnDefinitions(t *testing.T) {
	meta := metav1.ObjectMeta{}.SwaggerDoc()
	for gr, p := range tablePrinters {
		for _, c := range p.columns {
			switch {
			case c.Type != "string" && c.Type != "integer" && c.Type != "boolean":
				t.Errorf("%s %q: type %q", gr, c.Name, c.Type)
			case c.Name == "Name" && (c.Format != "name" || c.Description != meta["name"]):
				t.Errorf("%s Name column: %+v", gr, c)
			case c.Name == "Age" && (c.Format != "" || c.Description != meta["creationTimestamp"]):
				t.Errorf("%s Age column: %+v", gr, c)
			case c.Description == "" && !(gr.Resource == "runtimeclasses" && c.Name == "Handler"):
				// Upstream looks the RuntimeClass handler up in ObjectMeta's docs: empty.
				t.Errorf("%s %q: empty description", gr, c.Name)
			}
		}
	}
	// Spot checks of descriptions taken from the v1 types' docs.
	pods := tablePrinters[tableGR("", "pods")].columns
	if pods[5].Description != (corev1.PodStatus{}).SwaggerDoc()["podIP"] || pods[5].Description == "" {
		t.Errorf("pod IP description: %q", pods[5].Description)
	}
	if got := tablePrinters[tableGR("", "events")].columns[4].Description; got != (corev1.ObjectReference{}).SwaggerDoc()["fieldPath"] {
		t.Errorf("event Subobject description: %q", got)
	}
	if got := tablePrinters[tableGR("", "secrets")].columns[2].Description; got != (corev1.Secret{}).SwaggerDoc()["data"] {
		t.Errorf("secret Data description: %q", got)
	}
}

func TestTableCells(t *testing.T) {
	for _, c := range tableAllCases() {
		t.Run(c.resource.String()+"/"+c.name, func(t *testing.T) {
			table := tableConvert(t, c.resource, c.obj, nil)
			if len(table.Rows) != 1 {
				t.Fatalf("rows: %d", len(table.Rows))
			}
			row := table.Rows[0]
			if !reflect.DeepEqual(row.Cells, c.cells) {
				t.Errorf("cells:\n got  %#v\n want %#v", row.Cells, c.cells)
			}
			// Tables must survive DeepCopy (only JSON-compatible cell types).
			_ = table.DeepCopy()
			if row.Object.Object != c.obj {
				t.Errorf("row object is %p, want the converted object %p", row.Object.Object, c.obj)
			}
			// Upstream's IPAddress printer emits one cell more than it declares columns.
			if want := len(table.ColumnDefinitions); len(row.Cells) != want && c.resource.Resource != "ipaddresses" {
				t.Errorf("%d cells for %d columns", len(row.Cells), want)
			}
		})
	}
}

func TestTableListVersusSingle(t *testing.T) {
	pods := tablePodCases()
	list := &corev1.PodList{ListMeta: metav1.ListMeta{ResourceVersion: "4711", Continue: "token", RemainingItemCount: ptrInt64(12)}}
	for _, c := range pods {
		list.Items = append(list.Items, *c.obj.(*corev1.Pod))
	}
	table := tableConvert(t, tableCore, list, &metav1.TableOptions{})
	if len(table.ColumnDefinitions) != 9 {
		t.Errorf("columns: %d", len(table.ColumnDefinitions))
	}
	if table.ResourceVersion != "4711" || table.Continue != "token" || table.RemainingItemCount == nil || *table.RemainingItemCount != 12 {
		t.Errorf("list meta not copied: %+v", table.ListMeta)
	}
	if len(table.Rows) != len(pods) {
		t.Fatalf("rows: %d, want %d", len(table.Rows), len(pods))
	}
	for i, row := range table.Rows {
		if !reflect.DeepEqual(row.Cells, pods[i].cells) {
			t.Errorf("row %d (%s):\n got  %#v\n want %#v", i, pods[i].name, row.Cells, pods[i].cells)
		}
		// Like the real printers, rows point into the list rather than at copies.
		if row.Object.Object != &list.Items[i] {
			t.Errorf("row %d object is not the list item", i)
		}
	}

	single := tableConvert(t, tableCore, pods[0].obj, nil)
	single.Rows[0].Object = table.Rows[0].Object
	if !reflect.DeepEqual(single.Rows[0], table.Rows[0]) || !reflect.DeepEqual(single.ColumnDefinitions, table.ColumnDefinitions) {
		t.Errorf("single object table differs from its list row")
	}

	nodes := &corev1.NodeList{}
	for _, c := range tableNodeCases() {
		nodes.Items = append(nodes.Items, *c.obj.(*corev1.Node))
	}
	if table := tableConvert(t, tableNodes, nodes, nil); len(table.Rows) != len(nodes.Items) {
		t.Errorf("node rows: %d", len(table.Rows))
	}
}

func ptrInt64(i int64) *int64 { return &i }

func TestTableSingleObjectMeta(t *testing.T) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a", ResourceVersion: "99"}}
	table := tableConvert(t, tableGR("", "namespaces"), ns, nil)
	if table.ResourceVersion != "99" || table.Continue != "" || table.RemainingItemCount != nil {
		t.Errorf("list meta: %+v", table.ListMeta)
	}
}

func TestTableEmptyList(t *testing.T) {
	table := tableConvert(t, tableServices, &corev1.ServiceList{ListMeta: metav1.ListMeta{ResourceVersion: "5"}}, nil)
	if table.Rows == nil || len(table.Rows) != 0 {
		t.Errorf("rows: %#v, want an empty non-nil slice", table.Rows)
	}
	if table.ResourceVersion != "5" || len(table.ColumnDefinitions) != 7 {
		t.Errorf("table: %+v", table)
	}
}

func TestTableNoHeaders(t *testing.T) {
	noHeaders := &metav1.TableOptions{NoHeaders: true}
	for _, c := range tableAllCases() {
		table := tableConvert(t, c.resource, c.obj, noHeaders)
		wantHeaders := c.resource.Resource == "apiservices" // the aggregator ignores NoHeaders
		if got := table.ColumnDefinitions != nil; got != wantHeaders {
			t.Errorf("%s: column definitions present=%v with NoHeaders", c.resource, got)
		}
		if len(table.Rows) != 1 || !reflect.DeepEqual(table.Rows[0].Cells, c.cells) {
			t.Errorf("%s: rows changed by NoHeaders: %#v", c.resource, table.Rows)
		}
	}
	table := tableConvert(t, tableGR("rbac.authorization.k8s.io", "clusterroles"), &rbacv1.ClusterRole{}, noHeaders)
	if table.ColumnDefinitions != nil {
		t.Errorf("default convertor kept headers")
	}
}

func TestTableDefaultConvertor(t *testing.T) {
	created := metav1.NewTime(time.Date(2025, 3, 4, 5, 6, 7, 0, time.FixedZone("x", 3600)))
	objs := map[schema.GroupResource]runtime.Object{
		tableDefaultConvertorResources[0]: &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "obj", CreationTimestamp: created}},
		tableDefaultConvertorResources[1]: &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "obj", CreationTimestamp: created}},
		tableDefaultConvertorResources[2]: &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: "obj", CreationTimestamp: created}},
		tableDefaultConvertorResources[4]: &apiextensionsv1.CustomResourceDefinition{ObjectMeta: metav1.ObjectMeta{Name: "obj", CreationTimestamp: created}},
	}
	for _, gr := range tableDefaultConvertorResources {
		if _, ok := tablePrinters[gr]; ok {
			t.Errorf("%s must use the default convertor", gr)
		}
		obj, ok := objs[gr]
		if !ok {
			obj = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "obj", CreationTimestamp: created}}
		}
		table := tableConvert(t, gr, obj, nil)
		var names []string
		for _, c := range table.ColumnDefinitions {
			names = append(names, c.Name)
		}
		if !reflect.DeepEqual(names, []string{"Name", "Created At"}) {
			t.Errorf("%s columns: %q", gr, names)
		}
		if want := []interface{}{"obj", "2025-03-04T04:06:07Z"}; len(table.Rows) != 1 || !reflect.DeepEqual(table.Rows[0].Cells, want) {
			t.Errorf("%s rows: %#v", gr, table.Rows)
		}
	}
}

func TestTablePodRowConditions(t *testing.T) {
	for _, c := range tablePodCases() {
		pod := c.obj.(*corev1.Pod)
		table := tableConvert(t, tableCore, pod, nil)
		var want []metav1.TableRowCondition
		switch pod.Status.Phase {
		case corev1.PodSucceeded:
			want = []metav1.TableRowCondition{{Type: metav1.RowCompleted, Status: metav1.ConditionTrue, Reason: "Succeeded", Message: "The pod has completed successfully."}}
		case corev1.PodFailed:
			want = []metav1.TableRowCondition{{Type: metav1.RowCompleted, Status: metav1.ConditionTrue, Reason: "Failed", Message: "The pod failed."}}
		}
		if got := table.Rows[0].Conditions; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: conditions %#v, want %#v", c.name, got, want)
		}
	}
	deploy := tableConvert(t, tableGR("apps", "deployments"), tableWorkloadCases()[0].obj, nil)
	if deploy.Rows[0].Conditions != nil {
		t.Errorf("only pods carry row conditions")
	}
}

func TestTableErrors(t *testing.T) {
	ctx := context.Background()
	pods := tableConvertorFor(tableCore)
	if _, err := pods.ConvertToTable(ctx, &corev1.Pod{}, &metav1.ListOptions{}); err == nil {
		t.Errorf("unknown table options type accepted")
	}
	if _, err := pods.ConvertToTable(ctx, &corev1.Pod{}, (*metav1.TableOptions)(nil)); err != nil {
		t.Errorf("nil *TableOptions: %v", err)
	}
	// A list mixing types is a programming error.
	mixed := &metav1.List{Items: []runtime.RawExtension{{Object: &corev1.Pod{}}, {Object: &corev1.Node{}}}}
	if _, err := pods.ConvertToTable(ctx, mixed, nil); err == nil {
		t.Errorf("mixed list accepted")
	}
}

// Objects of a Go type the printer does not know (e.g. a beta version stored for an older
// emulated minor) print like the default convertor instead of failing the request.
func TestTableUnhandledTypeFallsBackToDefault(t *testing.T) {
	for _, obj := range []runtime.Object{
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}},
		&corev1.NodeList{Items: []corev1.Node{{ObjectMeta: metav1.ObjectMeta{Name: "n"}}}},
	} {
		table := tableConvert(t, tableCore, obj, nil)
		if len(table.ColumnDefinitions) != 2 || table.ColumnDefinitions[1].Name != "Created At" {
			t.Errorf("%T: columns %+v", obj, table.ColumnDefinitions)
		}
		if len(table.Rows) != 1 || table.Rows[0].Cells[0] != "n" {
			t.Errorf("%T: rows %+v", obj, table.Rows)
		}
	}
}

func TestTableFlowSchemaListIsSortedByPrecedence(t *testing.T) {
	fs := func(name string, precedence int32) flowcontrolv1.FlowSchema {
		return flowcontrolv1.FlowSchema{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: flowcontrolv1.FlowSchemaSpec{MatchingPrecedence: precedence}}
	}
	list := &flowcontrolv1.FlowSchemaList{Items: []flowcontrolv1.FlowSchema{fs("global-default", 9900), fs("b", 1000), fs("exempt", 1), fs("a", 1000)}}
	table := tableConvert(t, tableGR("flowcontrol.apiserver.k8s.io", "flowschemas"), list, nil)
	var got []string
	for _, r := range table.Rows {
		got = append(got, r.Cells[0].(string))
	}
	if want := []string{"exempt", "a", "b", "global-default"}; !reflect.DeepEqual(got, want) {
		t.Errorf("order %q, want %q", got, want)
	}
}

// A real server always fills spec.clusterIPs from spec.clusterIP; objects stored without it
// still print the address.
func TestTableServiceClusterIPWithoutClusterIPs(t *testing.T) {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "s"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: "10.43.0.1"}}
	table := tableConvert(t, tableServices, svc, nil)
	if got := table.Rows[0].Cells[2]; got != "10.43.0.1" {
		t.Errorf("cluster IP cell %q", got)
	}
}

func TestTableRestartsAgo(t *testing.T) {
	// "(Xs ago)" uses the same duration formatting as AGE.
	pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: tableContainerList("a")}, Status: corev1.PodStatus{
		ContainerStatuses: []corev1.ContainerStatus{tableRunning(true, 1, 26*time.Hour)},
	}}
	if got := tablePodCells(pod)[3]; got != "1 (26h ago)" {
		t.Errorf("restarts %q", got)
	}
}
