package replay

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func TestOrder(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 22, 54, 8, 0, time.UTC)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	rec := func(seq int, method, uri string, start, end int, body string) Record {
		r := Record{Seq: seq, Method: method, URI: uri, Time: ms(start), End: ms(end)}
		if body != "" {
			r.ReqBody = json.RawMessage(body)
		}
		return r
	}
	const sa = "/api/v1/namespaces/ns/serviceaccounts/a"
	tests := []struct {
		name string
		recs []Record
		want []int
	}{
		{
			name: "a later write to the same object that finished first goes first",
			recs: []Record{rec(1, "PUT", sa, 0, 18, ""), rec(2, "GET", sa, 1, 20, ""), rec(3, "PUT", sa, 2, 12, "")},
			want: []int{3, 1, 2},
		},
		{
			name: "writes that did not overlap keep their order",
			recs: []Record{rec(1, "PUT", sa, 0, 10, ""), rec(2, "PUT", sa, 11, 12, "")},
			want: []int{1, 2},
		},
		{
			name: "writes to other objects keep their order",
			recs: []Record{rec(1, "PUT", sa, 0, 18, ""), rec(2, "PUT", sa+"b", 2, 12, "")},
			want: []int{1, 2},
		},
		{
			name: "creates of one name race, generateName creates do not",
			recs: []Record{
				rec(1, "POST", "/api/v1/namespaces/ns/secrets", 0, 20, `{"metadata":{"generateName":"x-"}}`),
				rec(2, "POST", "/api/v1/namespaces/ns/secrets", 1, 10, `{"metadata":{"generateName":"x-"}}`),
				rec(3, "POST", "/api/v1/namespaces", 30, 50, `{"metadata":{"name":"n"}}`),
				rec(4, "POST", "/api/v1/namespaces", 31, 40, `{"metadata":{"name":"n"}}`),
			},
			want: []int{1, 2, 4, 3},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []int
			for _, r := range order(tt.recs) {
				got = append(got, r.Seq)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("order %v, want %v", got, tt.want)
			}
		})
	}
}
