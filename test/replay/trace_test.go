package replay

import "testing"

func TestParseSeqRange(t *testing.T) {
	tests := []struct {
		in       string
		want     SeqRange
		in1, in2 int // seqs inside the range
		out      int // a seq outside it, 0 for none
		wantErr  bool
	}{
		{in: "", want: SeqRange{}, in1: 1, in2: 5000},
		{in: "100-200", want: SeqRange{100, 200}, in1: 100, in2: 200, out: 201},
		{in: "100-", want: SeqRange{100, 0}, in1: 100, in2: 5000, out: 99},
		{in: "-200", want: SeqRange{0, 200}, in1: 1, in2: 200, out: 201},
		{in: "150", want: SeqRange{150, 150}, in1: 150, in2: 150, out: 151},
		{in: " 7 - 9 ", want: SeqRange{7, 9}, in1: 7, in2: 9, out: 10},
		{in: "200-100", wantErr: true},
		{in: "a-b", wantErr: true},
		{in: "0", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSeqRange(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseSeqRange(%q) = %v, want an error", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseSeqRange(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			if !got.Contains(tt.in1) || !got.Contains(tt.in2) || tt.out != 0 && got.Contains(tt.out) {
				t.Errorf("%v: Contains(%d)=%v Contains(%d)=%v Contains(%d)=%v", got, tt.in1, got.Contains(tt.in1),
					tt.in2, got.Contains(tt.in2), tt.out, got.Contains(tt.out))
			}
		})
	}
}
