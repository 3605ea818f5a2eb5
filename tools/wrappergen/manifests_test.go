package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
)

// No copy of the task.json or vss-extension.json schema can be had
// offline (the npm packages of azure-pipelines-task-lib and tfx-cli do not
// ship them), so these tests hold the committed manifests to the fields
// Microsoft's reference documents as required ("Task JSON schema", "Extension
// manifest reference"), and tfx checks the rest when make release packs
// the extension.

var (
	guid      = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	taskName  = regexp.MustCompile(`^[A-Za-z0-9\-]+$`)
	inputName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.]*$`)
	semver    = regexp.MustCompile(`^\d+\.\d+\.\d+$`)
)

type taskManifest struct {
	ID                 string `json:"id"`
	Name               string `json:"name"`
	FriendlyName       string `json:"friendlyName"`
	Description        string `json:"description"`
	Category           string `json:"category"`
	Author             string `json:"author"`
	InstanceNameFormat string `json:"instanceNameFormat"`
	Version            *struct {
		Major, Minor, Patch *int
	} `json:"version"`
	Inputs []struct {
		Name, Type, Label string
		Options           map[string]string `json:"options"`
	} `json:"inputs"`
	OutputVariables []struct{ Name, Description string } `json:"outputVariables"`
	Execution       map[string]struct {
		Target string `json:"target"`
	} `json:"execution"`
}

func TestTaskManifests(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join("..", "..", "azure-pipelines-task", "*V[0-9]*"))
	if len(dirs) != len(Steps()) {
		t.Fatalf("%d task folders for %d steps: %v", len(dirs), len(Steps()), dirs)
	}
	ids := map[string]string{}
	for _, dir := range dirs {
		data, err := os.ReadFile(filepath.Join(dir, "task.json"))
		if err != nil {
			t.Fatal(err)
		}
		var m taskManifest
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		where := filepath.Base(dir) + "/task.json"
		check := func(ok bool, what string) {
			if !ok {
				t.Errorf("%s: %s", where, what)
			}
		}
		check(guid.MatchString(m.ID), "id must be a lowercase GUID")
		check(ids[m.ID] == "", "id shared with "+ids[m.ID])
		ids[m.ID] = where
		check(taskName.MatchString(m.Name), "name: letters, digits and '-' only")
		check(m.FriendlyName != "" && m.Description != "" && m.Author != "" && m.InstanceNameFormat != "", "friendlyName, description, author and instanceNameFormat are required")
		check(slices.Contains([]string{"Azure Repos", "Azure Boards", "Azure Pipelines", "Azure Test Plans", "Azure Artifacts", "Build", "Deploy", "Package", "Test", "Utility"}, m.Category), "category "+m.Category+" is not one of the documented ones")
		check(m.Version != nil && m.Version.Major != nil && m.Version.Minor != nil && m.Version.Patch != nil, "version needs Major, Minor and Patch")
		target, ok := m.Execution["Node20_1"]
		check(ok && target.Target != "", "execution.Node20_1.target is required")
		if ok {
			_, err := os.Stat(filepath.Join(dir, target.Target))
			check(err == nil, "execution target "+target.Target+" does not exist")
		}
		seen := map[string]bool{}
		for _, in := range m.Inputs {
			check(inputName.MatchString(in.Name) && !seen[in.Name], "input "+in.Name+": a unique name of letters and digits")
			seen[in.Name] = true
			check(in.Label != "", "input "+in.Name+": label is required")
			check(slices.Contains([]string{"string", "multiLine", "boolean", "pickList", "filePath", "int", "radio", "secureFile"}, in.Type), "input "+in.Name+": type "+in.Type+" is not a documented one")
			check(in.Type != "pickList" || len(in.Options) > 0, "input "+in.Name+": a pickList needs options")
		}
		for _, o := range m.OutputVariables {
			check(inputName.MatchString(o.Name), "output variable "+o.Name+": letters and digits only")
		}
	}
}

func TestExtensionManifest(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "azure-pipelines-task", "vss-extension.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		ManifestVersion int                   `json:"manifestVersion"`
		Targets         []struct{ ID string } `json:"targets"`
		Files           []struct{ Path string }
		Contributions   []struct {
			ID, Type   string
			Targets    []string
			Properties struct{ Name string }
		}
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	json.Unmarshal(data, &raw)
	for _, field := range []string{"id", "publisher", "version", "name"} {
		if s, _ := raw[field].(string); s == "" {
			t.Errorf("vss-extension.json: %s is required", field)
		}
	}
	if v, _ := raw["version"].(string); !semver.MatchString(v) {
		t.Errorf("vss-extension.json: version %q is not major.minor.patch", v)
	}
	if m.ManifestVersion != 1 || len(m.Targets) == 0 || m.Targets[0].ID != "Microsoft.VisualStudio.Services" {
		t.Errorf("vss-extension.json: manifestVersion %d, targets %+v", m.ManifestVersion, m.Targets)
	}
	// Every task folder is packed and contributed, and nothing else.
	dirs, _ := filepath.Glob(filepath.Join("..", "..", "azure-pipelines-task", "*V[0-9]*"))
	var folders, files, contributed []string
	for _, d := range dirs {
		folders = append(folders, filepath.Base(d))
	}
	for _, f := range m.Files {
		files = append(files, f.Path)
	}
	for _, c := range m.Contributions {
		if c.Type != "ms.vss-distributed-task.task" || !slices.Equal(c.Targets, []string{"ms.vss-distributed-task.tasks"}) {
			t.Errorf("contribution %s: type %s, targets %v", c.ID, c.Type, c.Targets)
		}
		contributed = append(contributed, c.Properties.Name)
	}
	slices.Sort(folders)
	slices.Sort(files)
	slices.Sort(contributed)
	if !slices.Equal(files, folders) || !slices.Equal(contributed, folders) {
		t.Errorf("task folders %v, files %v, contributions %v: each folder must be packed and contributed", folders, files, contributed)
	}
}
