package handlers_test

import (
	"reflect"
	"testing"

	"github.com/perfbot/perfbot/handlers"
)

func TestTBuildsPiecesInOrder(t *testing.T) {
	got := handlers.T(handlers.IconNote, handlers.Plain("Note by "), handlers.User("U0ALICE"), handlers.Plain(": "),
		handlers.Data("<!here>"), handlers.T(handlers.Break(), handlers.Code("/perf help")))
	want := handlers.Text{Icon: handlers.IconNote, Pieces: []handlers.Piece{
		{Kind: handlers.PiecePlain, Text: "Note by "}, {Kind: handlers.PieceUser, Text: "U0ALICE"}, {Kind: handlers.PiecePlain, Text: ": "},
		{Kind: handlers.PieceData, Text: "<!here>"}, {Kind: handlers.PieceBreak}, {Kind: handlers.PieceCode, Text: "/perf help"},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("T(...) = %+v\nwant %+v", got, want)
	}
	if got.String() != "Note by @U0ALICE: <!here>\n/perf help" {
		t.Errorf("String() = %q", got.String())
	}
	if !handlers.T(handlers.IconWarning).Empty() || got.Empty() {
		t.Error("Empty is wrong")
	}
}

func TestWhoMentionsOnlyChatIDs(t *testing.T) {
	cases := []struct {
		in   string
		want handlers.PieceKind
	}{
		{"U0ALICE001", handlers.PieceUser},
		{"W012AB3CD", handlers.PieceUser},
		{"S0SREGROUP", handlers.PieceGroup},
		{"U1> <!channel", handlers.PieceData},
		{"S1> <!here", handlers.PieceData},
		{"Ualice", handlers.PieceData},
		{"U1", handlers.PieceData},
		{"U0ALICE001\n", handlers.PieceData},
		{"alertmanager", handlers.PieceData},
		{"C0CHANNEL1", handlers.PieceData},
	}
	for _, tc := range cases {
		if got := handlers.Who(tc.in); got.Kind != tc.want || got.Text != tc.in {
			t.Errorf("Who(%q) = %+v, want kind %d", tc.in, got, tc.want)
		}
	}
}
