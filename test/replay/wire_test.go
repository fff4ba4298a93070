package replay

import (
	"bytes"
	"errors"
	"io"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
)

func TestDecodeBody(t *testing.T) {
	secret := []byte(`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s","namespace":"n","resourceVersion":"7","uid":"u-1"},"type":"Opaque"}`)
	pb, err := encodeBody("application/vnd.kubernetes.protobuf", secret)
	if err != nil {
		t.Fatal(err)
	}
	status := []byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","message":"secrets \"x\" not found","reason":"NotFound","code":404}`)
	list := []byte(`{"kind":"SecretList","apiVersion":"v1","metadata":{"resourceVersion":"9"},"items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]}`)
	tests := []struct {
		name, contentType string
		data              []byte
		kind, summary     string
	}{
		{"protobuf object", "application/vnd.kubernetes.protobuf", pb, "Secret", "Secret n/s, resourceVersion 7"},
		{"json object", "application/json", secret, "Secret", "Secret n/s, resourceVersion 7"},
		{"json status", "application/json", status, "Status", `Status 404 NotFound: secrets "x" not found`},
		{"json list", "application/json", list, "SecretList", "SecretList, 2 items, resourceVersion 9"},
		{"text", "text/plain; charset=utf-8", []byte("ok"), "", "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := decodeBody(tt.contentType, tt.data)
			if b.Kind != tt.kind || b.Excerpt != tt.summary {
				t.Errorf("kind %q, excerpt %q; want %q, %q", b.Kind, b.Excerpt, tt.kind, tt.summary)
			}
		})
	}
}

// TestWatchDecoder reads a protobuf watch stream framed as the apiserver frames it.
func TestWatchDecoder(t *testing.T) {
	obj, err := encodeBody("application/vnd.kubernetes.protobuf",
		[]byte(`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a","resourceVersion":"5"}}`))
	if err != nil {
		t.Fatal(err)
	}
	bookmark, err := encodeBody("application/vnd.kubernetes.protobuf",
		[]byte(`{"apiVersion":"v1","kind":"Namespace","metadata":{"resourceVersion":"6","annotations":{"k8s.io/initial-events-end":"true"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	var stream bytes.Buffer
	fw := protobuf.LengthDelimitedFramer.NewFrameWriter(&stream)
	for _, ev := range []metav1.WatchEvent{
		{Type: "ADDED", Object: runtime.RawExtension{Raw: obj}},
		{Type: "BOOKMARK", Object: runtime.RawExtension{Raw: bookmark}},
	} {
		data, err := ev.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	dec := newWatchDecoder("application/vnd.kubernetes.protobuf;stream=watch", &stream)
	var got []watchEvent
	for {
		ev, err := dec.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ev)
	}
	if len(got) != 2 || got[0].Type != "ADDED" || got[0].Obj.Meta.Name != "a" || !got[1].initialEventsEnd() || got[1].Obj.Meta.ResourceVersion != "6" {
		t.Errorf("events %+v", got)
	}
	if added, done := initialEvents(got); added != 1 || !done {
		t.Errorf("initial events: %d added, end bookmark %v; want 1, true", added, done)
	}
}
