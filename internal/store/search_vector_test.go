package store

import (
	"strings"
	"testing"
)

func TestSearchVectors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		doc      SearchDoc
		wantDoc  string
		wantName string
	}{
		{"words cut and folded as queries are",
			SearchDoc{Name: "FCT_Orders", Description: "One row per order.", Columns: "order_id The order's id\ncustomer_id", Tags: "finance", Owners: "a@b.io"},
			"'fct':1A 'orders':2A 'one':3B 'row':4B 'per':5B 'order':6B,7C 'id':8C 'the':9C 's':11C 'customer':13C 'finance':15D 'a':16D 'b':17D 'io':18D",
			"'fct':1D 'orders':2D"},
		{"a word keeps its first position per weight",
			SearchDoc{Name: "orders orders", Columns: "orders x orders"},
			"'orders':1A,3C 'x':4C", "'orders':1D"},
		{"no words", SearchDoc{Name: "__", Description: "-- *"}, "", ""},
		{"letters of any script", SearchDoc{Name: "Größe_Messung"}, "'größe':1A 'messung':2A", "'größe':1D 'messung':2D"},
		{"a word too long for PostgreSQL is left out",
			SearchDoc{Name: "short " + strings.Repeat("x", maxLexemeBytes+1) + " end"},
			"'short':1A 'end':2A", "'short':1D 'end':2D"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, name := searchVectors(tc.doc)
			if doc != tc.wantDoc || name != tc.wantName {
				t.Errorf("searchVectors(%+v)\n= %q, %q\nwant %q, %q", tc.doc, doc, name, tc.wantDoc, tc.wantName)
			}
		})
	}
}

func TestSearchVectorLimits(t *testing.T) {
	// More distinct words than a tsvector holds: positions stop at
	// PostgreSQL's largest and the lexemes stay under its size limit.
	var b strings.Builder
	for i := range 200_000 {
		b.WriteString("w")
		b.WriteString(strings.Repeat("q", i%7))
		b.WriteString(itoa26(i))
		b.WriteByte(' ')
	}
	v := newVectorBuilder()
	v.add(b.String(), 2)
	if v.bytes > maxVectorBytes {
		t.Errorf("lexeme bytes %d over the limit %d", v.bytes, maxVectorBytes)
	}
	if v.pos != maxPosition {
		t.Errorf("last position %d, want it held at %d", v.pos, maxPosition)
	}
	if !strings.HasSuffix(v.String(), ":16383C") {
		t.Errorf("the last word's position is not the largest: ...%s", v.String()[len(v.String())-20:])
	}
}

// itoa26 writes i in letters, so that every word is a distinct run of
// letters.
func itoa26(i int) string {
	s := ""
	for {
		s = string(rune('a'+i%26)) + s
		i /= 26
		if i == 0 {
			return s
		}
	}
}
