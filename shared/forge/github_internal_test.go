package forge

import "testing"

func TestGitHubAPIURLs(t *testing.T) {
	tests := []struct {
		name, repo, api   string
		wantREST, wantGQL string
	}{
		{"github.com", "git@github.com:o/r.git", "", "https://api.github.com/", "https://api.github.com/graphql"},
		{"enterprise default", "https://ghe.example.com/o/r.git", "", "https://ghe.example.com/api/v3/", "https://ghe.example.com/api/graphql"},
		{"enterprise given", "https://ghe.example.com/o/r.git", "https://ghe.example.com/api/v3", "https://ghe.example.com/api/v3/", "https://ghe.example.com/api/graphql"},
		{"test server", "https://github.com/o/r", "http://127.0.0.1:8080", "http://127.0.0.1:8080/", "http://127.0.0.1:8080/graphql"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New("github", tt.repo, Options{APIURL: tt.api})
			if err != nil {
				t.Fatal(err)
			}
			g := p.(*GitHub)
			if got := g.c.BaseURL.String(); got != tt.wantREST {
				t.Errorf("REST base = %q, want %q", got, tt.wantREST)
			}
			if g.graphqlURL != tt.wantGQL {
				t.Errorf("GraphQL URL = %q, want %q", g.graphqlURL, tt.wantGQL)
			}
		})
	}
}
