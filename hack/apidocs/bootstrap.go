package main

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// The objects a kube-apiserver creates at start-up, before any client, and which therefore
// exist on every real cluster: the RBAC bootstrap policy (post-start hook rbac/bootstrap-roles)
// and one APIService per served group-version (kube-apiserver-autoregistration).

// rbacDir holds the bootstrap policy as the release's own tests pin it.
const rbacDir = "plugin/pkg/auth/authorizer/rbac/bootstrappolicy/testdata"

// rbacBootstrap maps each RBAC resource to the files whose objects the rbac/bootstrap-roles hook
// creates (pkg/registry/rbac/rest, PolicyData): the policy (ClusterRoles, ClusterRoleBindings,
// NamespaceRoles, NamespaceRoleBindings) and the controllers' roles and bindings
// (ControllerRoles, ControllerRoleBindings, the system:controller: ones), which it appends.
// cluster-roles-featuregates.yaml is the policy with every alpha and beta gate on, not what a
// default-configured server creates.
var rbacBootstrap = []struct {
	resource string // "<resource>.<group>", the file name under data/v<minor>/bootstrap
	kind     string
	files    []string
}{
	{"clusterroles.rbac.authorization.k8s.io", "ClusterRole", []string{"cluster-roles.yaml", "controller-roles.yaml"}},
	{"clusterrolebindings.rbac.authorization.k8s.io", "ClusterRoleBinding", []string{"cluster-role-bindings.yaml", "controller-role-bindings.yaml"}},
	{"roles.rbac.authorization.k8s.io", "Role", []string{"namespace-roles.yaml"}},
	{"rolebindings.rbac.authorization.k8s.io", "RoleBinding", []string{"namespace-role-bindings.yaml"}},
}

const apiServicesResource = "apiservices.apiregistration.k8s.io"

// priorityFiles hold kube-apiserver's APIService priority table: the generic part
// (DefaultGenericAPIServicePriorities) and kube-apiserver's additions, which are merged over it.
var priorityFiles = []string{"pkg/controlplane/apiserver/aggregator.go", "cmd/kube-apiserver/app/aggregator.go"}

// priority is one entry of the table: GroupPriorityMinimum and VersionPriority.
type priority struct{ group, version int64 }

// writeBootstrap writes data/v<minor>/bootstrap/<resource>.json.gz from the module at root and
// returns the object count per resource, for meta.json.
func writeBootstrap(w *writer, root string, gvs []string) (map[string]int, error) {
	counts := map[string]int{}
	for _, rb := range rbacBootstrap {
		var items []map[string]any
		for _, f := range rb.files {
			got, err := readRBACList(filepath.Join(root, filepath.FromSlash(rbacDir), f), rb.kind)
			if err != nil {
				return nil, err
			}
			items = append(items, got...)
		}
		if err := sortUnique(items); err != nil {
			return nil, fmt.Errorf("%s: %w", rb.resource, err)
		}
		w.json("bootstrap/"+rb.resource+".json", list(items))
		counts[rb.resource] = len(items)
	}
	table, err := priorityTable(root)
	if err != nil {
		return nil, err
	}
	items := apiServices(gvs, table)
	if err := sortUnique(items); err != nil {
		return nil, fmt.Errorf("%s: %w", apiServicesResource, err)
	}
	w.json("bootstrap/"+apiServicesResource+".json", list(items))
	counts[apiServicesResource] = len(items)
	return counts, nil
}

// readRBACList reads one of the policy's List files; every item must be of kind.
func readRBACList(path, kind string) ([]map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var l struct {
		Kind  string           `json:"kind"`
		Items []map[string]any `json:"items"`
	}
	if err := yaml.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if l.Kind != "List" || len(l.Items) == 0 {
		return nil, fmt.Errorf("%s: not a List of %s", path, kind)
	}
	for i, it := range l.Items {
		if it["kind"] != kind || it["apiVersion"] != "rbac.authorization.k8s.io/v1" {
			return nil, fmt.Errorf("%s: item %d is %v %v, want rbac.authorization.k8s.io/v1 %s", path, i, it["apiVersion"], it["kind"], kind)
		}
		// Older releases' files carry the creationTimestamp: null of an unset time; the store
		// sets it.
		if m, ok := it["metadata"].(map[string]any); ok && m["creationTimestamp"] == nil {
			delete(m, "creationTimestamp")
		}
	}
	return l.Items, nil
}

// priorityTable parses the APIService priorities out of kube-apiserver's source: every map
// entry {Group: "g", Version: "v"}: {Group: N, Version: M} in priorityFiles, later files
// overriding earlier ones as kube-apiserver's merge does.
func priorityTable(root string) (map[string]priority, error) {
	table := map[string]priority{}
	for _, f := range priorityFiles {
		path := filepath.Join(root, filepath.FromSlash(f))
		file, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return nil, fmt.Errorf("priority table: %w", err)
		}
		n := 0
		var perr error
		ast.Inspect(file, func(node ast.Node) bool {
			kv, ok := node.(*ast.KeyValueExpr)
			if !ok || perr != nil {
				return perr == nil
			}
			key, kok := fieldsOf(kv.Key)
			val, vok := fieldsOf(kv.Value)
			if !kok || !vok {
				return true
			}
			group, gerr := strconv.Unquote(key["Group"])
			version, verr := strconv.Unquote(key["Version"])
			gp, gperr := strconv.ParseInt(val["Group"], 10, 32)
			vp, vperr := strconv.ParseInt(val["Version"], 10, 32)
			if err := errors.Join(gerr, verr, gperr, vperr); err != nil {
				perr = fmt.Errorf("%s: entry %s: %w", f, key, err)
				return false
			}
			table[gvString(group, version)] = priority{group: gp, version: vp}
			n++
			return true
		})
		if perr != nil {
			return nil, perr
		}
		// Fewer entries than that means the table moved: better to fail than to emit too few.
		if n < 10 {
			return nil, fmt.Errorf("%s: found %d APIService priorities, expected the table", f, n)
		}
	}
	return table, nil
}

// fieldsOf returns the fields of a composite literal {Group: x, Version: y} as source text, if
// those are exactly its fields and both are basic literals.
func fieldsOf(e ast.Expr) (map[string]string, bool) {
	cl, ok := e.(*ast.CompositeLit)
	if !ok || len(cl.Elts) != 2 {
		return nil, false
	}
	out := map[string]string{}
	for _, elt := range cl.Elts {
		kv, ok := elt.(*ast.KeyValueExpr)
		if !ok {
			return nil, false
		}
		id, ok := kv.Key.(*ast.Ident)
		lit, lok := kv.Value.(*ast.BasicLit)
		if !ok || !lok || (id.Name != "Group" && id.Name != "Version") {
			return nil, false
		}
		out[id.Name] = lit.Value
	}
	return out, len(out) == 2
}

func gvString(group, version string) string {
	if group == "" {
		return version
	}
	return group + "/" + version
}

// apiServices are the APIServices kube-apiserver registers for its own group-versions
// (pkg/controlplane/apiserver/aggregator.go, makeAPIService): one per served group-version in
// the priority table, skipping the others (apiregistration.k8s.io, which the aggregator serves
// itself, is not in it), labelled as the autoregister controller labels them, with the status
// the local availability controller gives them (its lastTransitionTime is set per cluster).
func apiServices(gvs []string, table map[string]priority) []map[string]any {
	var items []map[string]any
	for _, gv := range gvs {
		p, ok := table[gv]
		if !ok {
			continue
		}
		group, version, found := strings.Cut(gv, "/")
		if !found {
			group, version = "", gv
		}
		spec := map[string]any{"version": version, "groupPriorityMinimum": p.group, "versionPriority": p.version}
		if group != "" {
			spec["group"] = group
		}
		items = append(items, map[string]any{
			"apiVersion": "apiregistration.k8s.io/v1",
			"kind":       "APIService",
			"metadata": map[string]any{
				"name":   version + "." + group,
				"labels": map[string]any{"kube-aggregator.kubernetes.io/automanaged": "onstart"},
			},
			"spec": spec,
			"status": map[string]any{"conditions": []any{map[string]any{
				"type": "Available", "status": "True", "reason": "Local", "message": "Local APIServices are always available",
			}}},
		})
	}
	return items
}

// sortUnique orders objects by namespace and name, as the store lists them, and rejects
// duplicate names.
func sortUnique(items []map[string]any) error {
	key := func(it map[string]any) string {
		m, _ := it["metadata"].(map[string]any)
		ns, _ := m["namespace"].(string)
		name, _ := m["name"].(string)
		return ns + "/" + name
	}
	slices.SortStableFunc(items, func(a, b map[string]any) int { return strings.Compare(key(a), key(b)) })
	for i := range items {
		if k := key(items[i]); strings.HasSuffix(k, "/") || i > 0 && k == key(items[i-1]) {
			return fmt.Errorf("object %q is unnamed or listed twice", k)
		}
	}
	return nil
}

func list(items []map[string]any) map[string]any {
	anys := make([]any, len(items))
	for i, it := range items {
		anys[i] = it
	}
	return map[string]any{"apiVersion": "v1", "kind": "List", "metadata": map[string]any{}, "items": anys}
}
