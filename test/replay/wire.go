package replay

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/client-go/kubernetes/scheme"
)

const (
	mediaJSON     = "application/json"
	mediaProtobuf = "application/vnd.kubernetes.protobuf"
)

// protoMagic starts every protobuf-encoded Kubernetes object (the envelope is a
// runtime.Unknown carrying apiVersion and kind).
var protoMagic = []byte{0x6b, 0x38, 0x73, 0x00}

// body is what the harness reads from a response body or a watch event's object, in either
// encoding, without knowing its Go type: every top-level Kubernetes object has its metadata as
// protobuf field 1 and a list its items as field 2, so PartialObjectMetadata(List) reads any.
type body struct {
	Kind       string
	APIVersion string
	Meta       metav1.ObjectMeta
	ListRV     string
	Items      int
	IsList     bool
	Status     *metav1.Status
	// Excerpt is a short human-readable summary.
	Excerpt string
}

// mediaType is the content type without parameters, lower case.
func mediaType(ct string) string {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt, _, _ = strings.Cut(ct, ";")
		return strings.ToLower(strings.TrimSpace(mt))
	}
	return mt
}

// normalizeContentType makes two spellings of one content type compare equal: lower case,
// no blanks around the parameters.
func normalizeContentType(ct string) string {
	parts := strings.Split(ct, ";")
	for i, p := range parts {
		parts[i] = strings.ToLower(strings.TrimSpace(p))
	}
	return strings.Join(parts, ";")
}

// decodeBody reads a response body of the given content type.
func decodeBody(contentType string, data []byte) body {
	switch mt := mediaType(contentType); {
	case mt == mediaProtobuf || bytes.HasPrefix(data, protoMagic):
		b, err := decodeProtobuf(data)
		if err != nil {
			return body{Excerpt: fmt.Sprintf("undecodable protobuf (%d bytes): %v", len(data), err)}
		}
		return b
	case mt == mediaJSON:
		return decodeJSON(data)
	default:
		return body{Excerpt: excerpt(string(data), 120)}
	}
}

func decodeProtobuf(data []byte) (body, error) {
	if !bytes.HasPrefix(data, protoMagic) {
		return body{}, errors.New("no k8s protobuf prefix")
	}
	var unk runtime.Unknown
	if err := unk.Unmarshal(data[len(protoMagic):]); err != nil {
		return body{}, fmt.Errorf("envelope: %w", err)
	}
	b := body{Kind: unk.Kind, APIVersion: unk.APIVersion}
	switch {
	case unk.Kind == "Status":
		var st metav1.Status
		if err := st.Unmarshal(unk.Raw); err != nil {
			return b, fmt.Errorf("status: %w", err)
		}
		b.Status = &st
	case strings.HasSuffix(unk.Kind, "List"):
		var l metav1.PartialObjectMetadataList
		if err := l.Unmarshal(unk.Raw); err != nil {
			return b, fmt.Errorf("list: %w", err)
		}
		b.IsList, b.ListRV, b.Items = true, l.ResourceVersion, len(l.Items)
	default:
		var p metav1.PartialObjectMetadata
		if err := p.Unmarshal(unk.Raw); err != nil {
			return b, fmt.Errorf("object: %w", err)
		}
		b.Meta = p.ObjectMeta
	}
	b.Excerpt = b.summary()
	return b, nil
}

func decodeJSON(data []byte) body {
	var raw struct {
		Kind       string            `json:"kind"`
		APIVersion string            `json:"apiVersion"`
		Metadata   json.RawMessage   `json:"metadata"`
		Items      []json.RawMessage `json:"items"`
		Rows       []json.RawMessage `json:"rows"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return body{Excerpt: excerpt(string(data), 120)}
	}
	b := body{Kind: raw.Kind, APIVersion: raw.APIVersion}
	switch {
	case raw.Kind == "Status":
		var st metav1.Status
		_ = json.Unmarshal(data, &st)
		b.Status = &st
	case raw.Kind == "Table":
		var lm metav1.ListMeta
		_ = json.Unmarshal(raw.Metadata, &lm)
		b.IsList, b.ListRV, b.Items = true, lm.ResourceVersion, len(raw.Rows)
	case strings.HasSuffix(raw.Kind, "List") || raw.Items != nil:
		var lm metav1.ListMeta
		_ = json.Unmarshal(raw.Metadata, &lm)
		b.IsList, b.ListRV, b.Items = true, lm.ResourceVersion, len(raw.Items)
	default:
		_ = json.Unmarshal(raw.Metadata, &b.Meta)
	}
	b.Excerpt = b.summary()
	if b.Kind == "" {
		b.Excerpt = excerpt(string(data), 120)
	}
	return b
}

// summary is a one-line description of a decoded body.
func (b body) summary() string {
	switch {
	case b.Status != nil:
		return fmt.Sprintf("Status %d %s: %s", b.Status.Code, b.Status.Reason, b.Status.Message)
	case b.IsList:
		return fmt.Sprintf("%s, %d items, resourceVersion %s", b.Kind, b.Items, b.ListRV)
	case b.Meta.Name != "":
		name := b.Meta.Name
		if b.Meta.Namespace != "" {
			name = b.Meta.Namespace + "/" + name
		}
		return fmt.Sprintf("%s %s, resourceVersion %s", b.Kind, name, b.Meta.ResourceVersion)
	}
	return b.Kind
}

// watchEvent is one event of a watch stream.
type watchEvent struct {
	Type string
	Obj  body
}

// initialEventsEnd reports whether the event is the bookmark that ends a watch-list's initial
// events.
func (e watchEvent) initialEventsEnd() bool {
	return e.Type == "BOOKMARK" && e.Obj.Meta.Annotations[metav1.InitialEventsAnnotationKey] == "true"
}

// watchDecoder reads the events of a watch stream in either encoding.
type watchDecoder struct {
	proto bool
	r     *bufio.Reader
	json  *json.Decoder
}

func newWatchDecoder(contentType string, r io.Reader) *watchDecoder {
	if mediaType(contentType) == mediaProtobuf {
		return &watchDecoder{proto: true, r: bufio.NewReader(r)}
	}
	return &watchDecoder{json: json.NewDecoder(r)}
}

// maxFrame bounds one protobuf watch frame; a larger length means the stream is not framed
// as expected.
const maxFrame = 16 << 20

func (d *watchDecoder) next() (watchEvent, error) {
	if !d.proto {
		var ev struct {
			Type   string          `json:"type"`
			Object json.RawMessage `json:"object"`
		}
		if err := d.json.Decode(&ev); err != nil {
			return watchEvent{}, err
		}
		return watchEvent{Type: ev.Type, Obj: decodeJSON(ev.Object)}, nil
	}
	// Length-delimited frames, each a metav1.WatchEvent whose object is a complete protobuf
	// object (envelope included).
	var n uint32
	if err := binary.Read(d.r, binary.BigEndian, &n); err != nil {
		return watchEvent{}, err
	}
	if n > maxFrame {
		return watchEvent{}, fmt.Errorf("watch frame of %d bytes", n)
	}
	frame := make([]byte, n)
	if _, err := io.ReadFull(d.r, frame); err != nil {
		return watchEvent{}, err
	}
	var ev metav1.WatchEvent
	if err := ev.Unmarshal(frame); err != nil {
		return watchEvent{}, fmt.Errorf("watch event: %w", err)
	}
	obj, err := decodeProtobuf(ev.Object.Raw)
	if err != nil {
		return watchEvent{}, fmt.Errorf("watch event object: %w", err)
	}
	return watchEvent{Type: ev.Type, Obj: obj}, nil
}

// encodeBody turns a JSON request body into what the request's Content-Type says it is.
func encodeBody(contentType string, data []byte) ([]byte, error) {
	if mediaType(contentType) != mediaProtobuf {
		return data, nil
	}
	obj, gvk, err := scheme.Codecs.UniversalDeserializer().Decode(data, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("decode body for protobuf: %w", err)
	}
	obj.GetObjectKind().SetGroupVersionKind(*gvk)
	var buf bytes.Buffer
	if err := protobuf.NewSerializer(scheme.Scheme, scheme.Scheme).Encode(obj, &buf); err != nil {
		return nil, fmt.Errorf("encode %s as protobuf: %w", gvk.Kind, err)
	}
	return buf.Bytes(), nil
}

// excerpt shortens s to about n characters on one line.
func excerpt(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
