package mockapi

import (
	"fmt"
	"strings"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	certificatesv1beta1 "k8s.io/api/certificates/v1beta1"
	coordinationv1 "k8s.io/api/coordination/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	nodev1 "k8s.io/api/node/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	rbacv1beta1 "k8s.io/api/rbac/v1beta1"
	resourcev1 "k8s.io/api/resource/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/duration"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
)

// Printers for cluster-level APIs: RBAC, scheduling, coordination, node, admission,
// dynamic resource allocation, certificates, flow control and the aggregator's APIServices. roles and clusterroles are
// absent on purpose: the real server uses the default convertor for them.
func addClusterTablePrinters(m map[schema.GroupResource]*tablePrinter) {
	gr := func(group, resource string) schema.GroupResource {
		return schema.GroupResource{Group: group, Resource: resource}
	}

	m[gr("rbac.authorization.k8s.io", "rolebindings")] = newTablePrinter(
		tableBindingColumns(rbacv1beta1.RoleBinding{}.SwaggerDoc()["roleRef"], "roleBinding"),
		tableCells(func(b *rbacv1.RoleBinding) []interface{} {
			return tableBindingCells(b.Name, b.RoleRef, b.Subjects, b.CreationTimestamp)
		}))
	m[gr("rbac.authorization.k8s.io", "clusterrolebindings")] = newTablePrinter(
		tableBindingColumns(rbacv1beta1.ClusterRoleBinding{}.SwaggerDoc()["roleRef"], "clusterRoleBinding"),
		tableCells(func(b *rbacv1.ClusterRoleBinding) []interface{} {
			return tableBindingCells(b.Name, b.RoleRef, b.Subjects, b.CreationTimestamp)
		}))

	m[gr("scheduling.k8s.io", "priorityclasses")] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("Value", "integer", schedulingv1.PriorityClass{}.SwaggerDoc()["value"]),
		tableColumn("Global-Default", "boolean", schedulingv1.PriorityClass{}.SwaggerDoc()["globalDefault"]),
		tableAgeColumn,
		// Priority 0 upstream, though only filled in wide mode (always, server-side).
		tableColumn("PreemptionPolicy", "string", schedulingv1.PriorityClass{}.SwaggerDoc()["preemptionPolicy"]),
	}, tableCells(func(pc *schedulingv1.PriorityClass) []interface{} {
		policy := ""
		if pc.PreemptionPolicy != nil {
			policy = string(*pc.PreemptionPolicy)
		}
		return []interface{}{pc.Name, int64(pc.Value), pc.GlobalDefault, tableAge(pc.CreationTimestamp), policy}
	}))

	m[gr("coordination.k8s.io", "leases")] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("Holder", "string", coordinationv1.LeaseSpec{}.SwaggerDoc()["holderIdentity"]),
		tableAgeColumn,
	}, tableCells(func(l *coordinationv1.Lease) []interface{} {
		holder := ""
		if l.Spec.HolderIdentity != nil {
			holder = *l.Spec.HolderIdentity
		}
		return []interface{}{l.Name, holder, tableAge(l.CreationTimestamp)}
	}))

	m[gr("node.k8s.io", "runtimeclasses")] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		// Upstream looks the description up in ObjectMeta's docs, so it is empty.
		tableColumn("Handler", "string", tableObjectMetaDoc["handler"]),
		tableAgeColumn,
	}, tableCells(func(rc *nodev1.RuntimeClass) []interface{} {
		return []interface{}{rc.Name, rc.Handler, tableAge(rc.CreationTimestamp)}
	}))

	webhookColumns := []metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("Webhooks", "integer", "Webhooks indicates the number of webhooks registered in this configuration"),
		tableAgeColumn,
	}
	m[gr("admissionregistration.k8s.io", "mutatingwebhookconfigurations")] = newTablePrinter(webhookColumns,
		tableCells(func(c *admissionregistrationv1.MutatingWebhookConfiguration) []interface{} {
			return []interface{}{c.Name, int64(len(c.Webhooks)), tableAge(c.CreationTimestamp)}
		}))
	m[gr("admissionregistration.k8s.io", "validatingwebhookconfigurations")] = newTablePrinter(webhookColumns,
		tableCells(func(c *admissionregistrationv1.ValidatingWebhookConfiguration) []interface{} {
			return []interface{}{c.Name, int64(len(c.Webhooks)), tableAge(c.CreationTimestamp)}
		}))

	m[gr("admissionregistration.k8s.io", "validatingadmissionpolicies")] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("Validations", "integer", "Validations indicates the number of validation rules defined in this configuration"),
		tableColumn("ParamKind", "string", "ParamKind specifies the kind of resources used to parameterize this policy"),
		tableAgeColumn,
	}, tableCells(func(p *admissionregistrationv1.ValidatingAdmissionPolicy) []interface{} {
		return []interface{}{p.Name, int64(len(p.Spec.Validations)), tableParamKind(p.Spec.ParamKind), tableAge(p.CreationTimestamp)}
	}))
	m[gr("admissionregistration.k8s.io", "mutatingadmissionpolicies")] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("Mutations", "integer", "Mutation indicates the number of mutations rules defined in this configuration"),
		tableColumn("ParamKind", "string", "ParamKind specifies the kind of resources used to parameterize this policy"),
		tableAgeColumn,
	}, tableCells(func(p *admissionregistrationv1.MutatingAdmissionPolicy) []interface{} {
		return []interface{}{p.Name, int64(len(p.Spec.Mutations)), tableParamKind(p.Spec.ParamKind), tableAge(p.CreationTimestamp)}
	}))
	policyBindingColumns := []metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("PolicyName", "string", "PolicyName indicates the policy definition which the policy binding binded to"),
		tableColumn("ParamRef", "string", "ParamRef indicates the param resource which sets the configuration param"),
		tableAgeColumn,
	}
	m[gr("admissionregistration.k8s.io", "validatingadmissionpolicybindings")] = newTablePrinter(policyBindingColumns,
		tableCells(func(b *admissionregistrationv1.ValidatingAdmissionPolicyBinding) []interface{} {
			return []interface{}{b.Name, b.Spec.PolicyName, tableParamRef(b.Spec.ParamRef), tableAge(b.CreationTimestamp)}
		}))
	m[gr("admissionregistration.k8s.io", "mutatingadmissionpolicybindings")] = newTablePrinter(policyBindingColumns,
		tableCells(func(b *admissionregistrationv1.MutatingAdmissionPolicyBinding) []interface{} {
			return []interface{}{b.Name, b.Spec.PolicyName, tableParamRef(b.Spec.ParamRef), tableAge(b.CreationTimestamp)}
		}))

	// Dynamic resource allocation.
	m[gr("resource.k8s.io", "deviceclasses")] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableAgeColumn,
	}, tableCells(func(c *resourcev1.DeviceClass) []interface{} {
		return []interface{}{c.Name, tableAge(c.CreationTimestamp)}
	}))
	m[gr("resource.k8s.io", "resourceclaims")] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("State", "string", "A summary of the current state (allocated, pending, reserved, etc.)."),
		tableAgeColumn,
	}, tableCells(func(c *resourcev1.ResourceClaim) []interface{} {
		var states []string
		if c.DeletionTimestamp != nil {
			states = append(states, "deleted")
		}
		switch {
		case c.Status.Allocation != nil:
			states = append(states, "allocated")
			if len(c.Status.ReservedFor) > 0 {
				states = append(states, "reserved")
			}
		case c.DeletionTimestamp == nil:
			states = append(states, "pending")
		}
		return []interface{}{c.Name, strings.Join(states, ","), tableAge(c.CreationTimestamp)}
	}))
	m[gr("resource.k8s.io", "resourceclaimtemplates")] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableAgeColumn,
	}, tableCells(func(c *resourcev1.ResourceClaimTemplate) []interface{} {
		return []interface{}{c.Name, tableAge(c.CreationTimestamp)}
	}))
	m[gr("resource.k8s.io", "resourceslices")] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("Node", "string", resourcev1.ResourceSliceSpec{}.SwaggerDoc()["nodeName"]),
		tableColumn("Driver", "string", resourcev1.ResourceSliceSpec{}.SwaggerDoc()["driver"]),
		tableColumn("Pool", "string", resourcev1.ResourcePool{}.SwaggerDoc()["name"]),
		tableAgeColumn,
	}, tableCells(func(s *resourcev1.ResourceSlice) []interface{} {
		node := ""
		if s.Spec.NodeName != nil {
			node = *s.Spec.NodeName
		}
		return []interface{}{s.Name, node, s.Spec.Driver, s.Spec.Pool.Name, tableAge(s.CreationTimestamp)}
	}))

	csrSpec := certificatesv1beta1.CertificateSigningRequestSpec{}.SwaggerDoc()
	m[gr("certificates.k8s.io", "certificatesigningrequests")] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableAgeColumn,
		tableColumn("SignerName", "string", csrSpec["signerName"]),
		tableColumn("Requestor", "string", csrSpec["request"]),
		tableColumn("RequestedDuration", "string", csrSpec["expirationSeconds"]),
		tableColumn("Condition", "string", certificatesv1beta1.CertificateSigningRequestStatus{}.SwaggerDoc()["conditions"]),
	}, tableCells(tableCSRCells))

	m[gr("flowcontrol.apiserver.k8s.io", "flowschemas")] = &tablePrinter{
		columns: []metav1.TableColumnDefinition{
			tableNameColumn,
			tableColumn("PriorityLevel", "string", flowcontrolv1.PriorityLevelConfigurationReference{}.SwaggerDoc()["name"]),
			tableColumn("MatchingPrecedence", "string", flowcontrolv1.FlowSchemaSpec{}.SwaggerDoc()["matchingPrecedence"]),
			tableColumn("DistinguisherMethod", "string", flowcontrolv1.FlowSchemaSpec{}.SwaggerDoc()["distinguisherMethod"]),
			tableAgeColumn,
			tableColumn("MissingPL", "string", "references a broken or non-existent PriorityLevelConfiguration"),
		},
		cells: []tableCellFunc{tableCells(tableFlowSchemaCells)},
		less:  tableFlowSchemaLess,
	}

	queuing := flowcontrolv1.QueuingConfiguration{}.SwaggerDoc()
	m[gr("flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations")] = newTablePrinter([]metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("Type", "string", flowcontrolv1.PriorityLevelConfigurationSpec{}.SwaggerDoc()["type"]),
		tableColumn("NominalConcurrencyShares", "string", flowcontrolv1.LimitedPriorityLevelConfiguration{}.SwaggerDoc()["nominalConcurrencyShares"]),
		tableColumn("Queues", "string", queuing["queues"]),
		tableColumn("HandSize", "string", queuing["handSize"]),
		tableColumn("QueueLengthLimit", "string", queuing["queueLengthLimit"]),
		tableAgeColumn,
	}, tableCells(tablePriorityLevelCells))

	// The aggregator's own convertor: always sends headers, even with NoHeaders.
	m[gr("apiregistration.k8s.io", "apiservices")] = &tablePrinter{
		columns: []metav1.TableColumnDefinition{
			tableNameColumn,
			tableColumn("Service", "string", "The reference to the service that hosts this API endpoint."),
			tableColumn("Available", "string", "Whether this service is available."),
			tableAgeColumn,
		},
		cells:         []tableCellFunc{tableCells(tableAPIServiceCells)},
		alwaysHeaders: true,
	}
}

// RBAC bindings.

func tableBindingColumns(roleRefDoc, kind string) []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		tableNameColumn,
		tableColumn("Role", "string", roleRefDoc),
		tableAgeColumn,
		tableWideColumn("Users", "string", "Users in the "+kind),
		tableWideColumn("Groups", "string", "Groups in the "+kind),
		tableWideColumn("ServiceAccounts", "string", "ServiceAccounts in the "+kind),
	}
}

func tableBindingCells(name string, ref rbacv1.RoleRef, subjects []rbacv1.Subject, created metav1.Time) []interface{} {
	var users, groups, sas []string
	for _, s := range subjects {
		switch s.Kind {
		case rbacv1.ServiceAccountKind:
			sas = append(sas, s.Namespace+"/"+s.Name)
		case rbacv1.UserKind:
			users = append(users, s.Name)
		case rbacv1.GroupKind:
			groups = append(groups, s.Name)
		}
	}
	return []interface{}{
		name, ref.Kind + "/" + ref.Name, tableAge(created),
		strings.Join(users, ", "), strings.Join(groups, ", "), strings.Join(sas, ", "),
	}
}

// Admission policies.

func tableParamKind(pk *admissionregistrationv1.ParamKind) string {
	if pk == nil {
		return "<unset>"
	}
	return pk.APIVersion + "/" + pk.Kind
}

func tableParamRef(pr *admissionregistrationv1.ParamRef) string {
	switch {
	case pr == nil:
		return "<unset>"
	case pr.Name != "" && pr.Namespace != "":
		return pr.Namespace + "/" + pr.Name
	case pr.Name != "":
		// Cluster-scoped or any namespace: cannot tell here.
		return "*/" + pr.Name
	case pr.Selector != nil:
		// Upstream prints the generated Go String() of the selector.
		return pr.Selector.String()
	}
	return "<unset>"
}

// Certificate signing requests.

func tableCSRCells(csr *certificatesv1.CertificateSigningRequest) []interface{} {
	signer := tableOrNone(csr.Spec.SignerName)
	requested := "<none>"
	if s := csr.Spec.ExpirationSeconds; s != nil {
		requested = duration.HumanDuration(time.Duration(*s) * time.Second)
	}
	var approved, denied, failed bool
	for _, c := range csr.Status.Conditions {
		switch c.Type {
		case certificatesv1.CertificateApproved:
			approved = true
		case certificatesv1.CertificateDenied:
			denied = true
		case certificatesv1.CertificateFailed:
			failed = true
		}
	}
	// Denied beats Approved; Failed and Issued are appended.
	condition := "Pending"
	if denied {
		condition = "Denied"
	} else if approved {
		condition = "Approved"
	}
	if failed {
		condition += ",Failed"
	}
	if len(csr.Status.Certificate) > 0 {
		condition += ",Issued"
	}
	return []interface{}{csr.Name, tableAge(csr.CreationTimestamp), signer, csr.Spec.Username, requested, condition}
}

// Flow control.

func tableFlowSchemaCells(fs *flowcontrolv1.FlowSchema) []interface{} {
	distinguisher := "<none>"
	if fs.Spec.DistinguisherMethod != nil {
		distinguisher = string(fs.Spec.DistinguisherMethod.Type)
	}
	missingPL := "?"
	for _, c := range fs.Status.Conditions {
		if c.Type == flowcontrolv1.FlowSchemaConditionDangling {
			missingPL = string(c.Status)
			break
		}
	}
	return []interface{}{fs.Name, fs.Spec.PriorityLevelConfiguration.Name, int64(fs.Spec.MatchingPrecedence),
		distinguisher, tableAge(fs.CreationTimestamp), missingPL}
}

// tableFlowSchemaLess is the order the apiserver matches flow schemas in, which is also
// how the real server sorts a list of them.
func tableFlowSchemaLess(a, b runtime.Object) bool {
	x, y := a.(*flowcontrolv1.FlowSchema), b.(*flowcontrolv1.FlowSchema)
	if x.Spec.MatchingPrecedence != y.Spec.MatchingPrecedence {
		return x.Spec.MatchingPrecedence < y.Spec.MatchingPrecedence
	}
	return x.Name < y.Name
}

func tablePriorityLevelCells(pl *flowcontrolv1.PriorityLevelConfiguration) []interface{} {
	// Numbers or "<none>". Upstream stores int32s, which encode identically but make
	// Table.DeepCopy panic; int64 is what DeepCopyJSONValue supports.
	var shares, queues, handSize, queueLengthLimit interface{} = "<none>", "<none>", "<none>", "<none>"
	if l := pl.Spec.Limited; l != nil {
		shares = int64(tableInt32(l.NominalConcurrencyShares))
		if q := l.LimitResponse.Queuing; q != nil {
			queues, handSize, queueLengthLimit = int64(q.Queues), int64(q.HandSize), int64(q.QueueLengthLimit)
		}
	}
	return []interface{}{pl.Name, string(pl.Spec.Type), shares, queues, handSize, queueLengthLimit, tableAge(pl.CreationTimestamp)}
}

// API services.

func tableAPIServiceCells(svc *apiregistrationv1.APIService) []interface{} {
	service := "Local"
	if s := svc.Spec.Service; s != nil {
		service = s.Namespace + "/" + s.Name
	}
	available := string(apiregistrationv1.ConditionUnknown)
	for _, c := range svc.Status.Conditions {
		if c.Type != apiregistrationv1.Available {
			continue
		}
		available = string(c.Status)
		if c.Status != apiregistrationv1.ConditionTrue && c.Reason != "" {
			available = fmt.Sprintf("%s (%s)", c.Status, c.Reason)
		}
		break
	}
	return []interface{}{svc.Name, service, available, tableAge(svc.CreationTimestamp)}
}
