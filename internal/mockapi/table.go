package mockapi

// Server-side Table printing (what `kubectl get` renders).
//
// A real kube-apiserver builds Tables with k8s.io/kubernetes/pkg/printers/internalversion on
// internal types. We do not depend on k8s.io/kubernetes, so the printers in table_*.go
// re-implement those of Kubernetes 1.36 on the v1 types held by our store: same column
// definitions (names, types, formats, descriptions, priorities) and same cell values.
//
// Conventions shared by all printers:
//   - the server always prints "wide" (priority-1 columns included; kubectl hides them
//     unless -o wide);
//   - cells are computed from the object as stored, applying the v1->internal conversion
//     rules the real server applies before printing (e.g. Secret stringData counts as data,
//     Pod podIP wins over podIPs, nil replicas count as 0), but not defaulting: that is
//     the store's job;
//   - resources a real server serves with rest.NewDefaultTableConvertor (roles,
//     clusterroles, limitranges, csistoragecapacities, customresourcedefinitions) and
//     unknown ones get that convertor: Name and Created At;
//   - deliberate differences, none visible for objects a real server could store: a
//     Service without spec.clusterIPs prints spec.clusterIP, numeric cells are int64
//     (same JSON, but Table.DeepCopy works), and objects of a Go type a printer does not
//     know fall back to the default convertor instead of failing the request.

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apiserver/pkg/registry/rest"
)

// tableConvertorFor returns the rest.TableConvertor (k8s.io/apiserver/pkg/registry/rest) for a resource.
func tableConvertorFor(gr schema.GroupResource) rest.TableConvertor {
	if p, ok := tablePrinters[gr]; ok {
		return p
	}
	// Resources without a printer get the apiserver's default: Name and Created At.
	return rest.NewDefaultTableConvertor(gr)
}

// tablePrinters is built once and only read afterwards.
var tablePrinters = tableRegistry()

func tableRegistry() map[schema.GroupResource]*tablePrinter {
	m := map[schema.GroupResource]*tablePrinter{}
	for _, add := range []func(map[schema.GroupResource]*tablePrinter){
		addCoreTablePrinters,
		addAppsTablePrinters,
		addBatchTablePrinters,
		addStorageTablePrinters,
		addNetworkingTablePrinters,
		addClusterTablePrinters,
	} {
		add(m)
	}
	// Printers may be shared (events); each resource gets its own copy because the
	// fallback names its resource.
	for gr, p := range m {
		c := *p
		c.fallback = rest.NewDefaultTableConvertor(gr)
		m[gr] = &c
	}
	return m
}

// tableCellFunc computes the cells of one object's row for the Go type it accepts.
type tableCellFunc struct {
	accepts func(runtime.Object) bool
	cells   func(runtime.Object) []interface{}
}

// tableCells adapts a typed cell function.
func tableCells[T runtime.Object](f func(T) []interface{}) tableCellFunc {
	return tableCellFunc{
		accepts: func(obj runtime.Object) bool { _, ok := obj.(T); return ok },
		cells:   func(obj runtime.Object) []interface{} { return f(obj.(T)) },
	}
}

// tablePrinter is the rest.TableConvertor of one resource.
type tablePrinter struct {
	columns []metav1.TableColumnDefinition
	// cells has one entry per accepted Go type (e.g. autoscaling/v1 and v2 HPAs).
	cells []tableCellFunc
	// conditions is optional; only pods carry row conditions.
	conditions func(runtime.Object) []metav1.TableRowCondition
	// less optionally orders the rows of a list (flow schemas).
	less func(a, b runtime.Object) bool
	// alwaysHeaders ignores NoHeaders, as the aggregator's APIService convertor does.
	alwaysHeaders bool
	// fallback prints objects of Go types no cell function handles (e.g. a beta version
	// stored for an older emulated minor) as Name and Created At instead of failing.
	fallback rest.TableConvertor
}

func newTablePrinter(columns []metav1.TableColumnDefinition, cells ...tableCellFunc) *tablePrinter {
	return &tablePrinter{columns: columns, cells: cells}
}

var _ rest.TableConvertor = &tablePrinter{}

// ConvertToTable mirrors k8s.io/kubernetes/pkg/printers/storage.TableConvertor plus
// printers.HumanReadableGenerator.GenerateTable with Wide set.
func (p *tablePrinter) ConvertToTable(ctx context.Context, obj runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	noHeaders := false
	switch o := tableOptions.(type) {
	case nil:
	case *metav1.TableOptions:
		noHeaders = o != nil && o.NoHeaders
	default:
		return nil, fmt.Errorf("unrecognized type %T for table options, can't display tabular output", tableOptions)
	}
	if p.fallback != nil && !p.handles(obj) {
		return p.fallback.ConvertToTable(ctx, obj, tableOptions)
	}

	table := &metav1.Table{}
	if !noHeaders || p.alwaysHeaders {
		table.ColumnDefinitions = p.columns
	}
	if meta.IsListType(obj) {
		// Non-nil like the real list printers, so an empty list encodes "rows": [].
		table.Rows = make([]metav1.TableRow, 0, meta.LenList(obj))
		err := meta.EachListItem(obj, func(item runtime.Object) error {
			row, err := p.row(item)
			table.Rows = append(table.Rows, row)
			return err
		})
		if err != nil {
			return nil, err
		}
		if p.less != nil {
			sort.SliceStable(table.Rows, func(i, j int) bool {
				return p.less(table.Rows[i].Object.Object, table.Rows[j].Object.Object)
			})
		}
	} else {
		row, err := p.row(obj)
		if err != nil {
			return nil, err
		}
		table.Rows = []metav1.TableRow{row}
	}

	if m, err := meta.ListAccessor(obj); err == nil {
		table.ResourceVersion = m.GetResourceVersion()
		table.Continue = m.GetContinue()
		table.RemainingItemCount = m.GetRemainingItemCount()
	} else if m, err := meta.CommonAccessor(obj); err == nil {
		table.ResourceVersion = m.GetResourceVersion()
	}
	return table, nil
}

// errTableStop ends a list walk early.
var errTableStop = errors.New("stop")

// handles reports whether obj, or the first item of a list, has a cell function.
func (p *tablePrinter) handles(obj runtime.Object) bool {
	if meta.IsListType(obj) {
		ok := true // an empty list prints as this resource's empty table
		_ = meta.EachListItem(obj, func(item runtime.Object) error {
			ok = p.cellFunc(item) != nil
			return errTableStop
		})
		return ok
	}
	return p.cellFunc(obj) != nil
}

func (p *tablePrinter) cellFunc(obj runtime.Object) *tableCellFunc {
	for i := range p.cells {
		if p.cells[i].accepts(obj) {
			return &p.cells[i]
		}
	}
	return nil
}

func (p *tablePrinter) row(obj runtime.Object) (metav1.TableRow, error) {
	f := p.cellFunc(obj)
	if f == nil {
		return metav1.TableRow{}, fmt.Errorf("no table handler registered for this type %T", obj)
	}
	row := metav1.TableRow{Cells: f.cells(obj), Object: runtime.RawExtension{Object: obj}}
	if p.conditions != nil {
		row.Conditions = p.conditions(obj)
	}
	return row, nil
}

// Column helpers. Descriptions come from the v1 types' SwaggerDoc, as upstream.

var tableObjectMetaDoc = metav1.ObjectMeta{}.SwaggerDoc()

var (
	tableNameColumn = metav1.TableColumnDefinition{Name: "Name", Type: "string", Format: "name", Description: tableObjectMetaDoc["name"]}
	tableAgeColumn  = metav1.TableColumnDefinition{Name: "Age", Type: "string", Description: tableObjectMetaDoc["creationTimestamp"]}
)

func tableColumn(name, typ, description string) metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: name, Type: typ, Description: description}
}

// tableWideColumn is a priority-1 column: sent by the server, shown by kubectl only with -o wide.
func tableWideColumn(name, typ, description string) metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: name, Type: typ, Description: description, Priority: 1}
}

// Column pairs used by every workload printer.
var (
	tableContainersColumn = tableWideColumn("Containers", "string", "Names of each container in the template.")
	tableImagesColumn     = tableWideColumn("Images", "string", "Images referenced by each container in the template.")
)

// Cell helpers.

// tableAge is upstream's translateTimestampSince.
func tableAge(t metav1.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(time.Since(t.Time))
}

// tableMicroAge is upstream's translateMicroTimestampSince.
func tableMicroAge(t metav1.MicroTime) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(time.Since(t.Time))
}

// tableContainers lays out container names and images on one line each.
func tableContainers(containers []corev1.Container) (names, images string) {
	n := make([]string, len(containers))
	i := make([]string, len(containers))
	for k, c := range containers {
		n[k], i[k] = c.Name, c.Image
	}
	return strings.Join(n, ","), strings.Join(i, ",")
}

// tableInt32 dereferences like conversion to the internal types does: nil is 0.
func tableInt32(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

// tableBoolPtr is upstream's printBoolPtr.
func tableBoolPtr(b *bool) string {
	switch {
	case b == nil:
		return "<unset>"
	case *b:
		return "True"
	default:
		return "False"
	}
}

// tableListWithMore joins up to max items and summarises the rest, as upstream's
// formatters do ("a,b,c + 2 more...").
func tableListWithMore(list []string, max int, empty string) string {
	if len(list) > max {
		return fmt.Sprintf("%s + %d more...", strings.Join(list[:max], ","), len(list)-max)
	}
	if s := strings.Join(list, ","); s != "" {
		return s
	}
	return empty
}

// tableSortedSet returns the distinct non-empty values, sorted (load-balancer addresses).
func tableSortedSet(values []string) []string {
	set := make(map[string]bool, len(values))
	out := make([]string, 0, len(values))
	for _, v := range values {
		if v != "" && !set[v] {
			set[v] = true
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out
}

// tableSelector is metav1.FormatLabelSelector ("<none>" when empty).
func tableSelector(s *metav1.LabelSelector) string { return metav1.FormatLabelSelector(s) }

// tableLabels is labels.FormatLabels ("<none>" when empty).
func tableLabels(m map[string]string) string { return labels.FormatLabels(m) }
