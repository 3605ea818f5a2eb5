package wrapper

import (
	"bytes"
	"crypto/sha1"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/gitship/gitship/shared/step"
)

// Facts about the Azure task format (tasks.schema.json in
// azure-pipelines-task-lib, and the agent's handlers).
const (
	taskSchema = "https://raw.githubusercontent.com/Microsoft/azure-pipelines-task-lib/master/tasks.schema.json"
	// MinimumAgentVersion is the first agent with the Node20_1 handler.
	// Agents from 4.265.1 have Node24 too and pick it: of the handlers a
	// task declares, an agent runs the highest it has
	// (azure-pipelines-tasks docs/migrateNode24.md).
	MinimumAgentVersion = "3.232.1"
	// ShimFile is the Node shim every task runs; it starts the binary.
	ShimFile = "index.js"
	// ShimConfigFile tells the shim which binary to start, and where a
	// release's binaries are downloaded from.
	ShimConfigFile = "step.json"
	// ReleaseFile is written into each task folder of a release's VSIX by
	// tools/release: the release's version and the SHA-256 of the step's
	// binary for every platform. The shim downloads nothing without it.
	ReleaseFile = "release.json"
	// DownloadURL is where the shim downloads a release's binary from:
	// the GitHub release's assets. {version} is the release (1.2.3),
	// {asset} the file, AssetName. GITSHIP_DOWNLOAD_URL, a pipeline
	// variable or the agent's environment, replaces it (a mirror, a file
	// share for agents without internet access).
	DownloadURL = "https://github.com/" + Repo + "/releases/download/v{version}/{asset}"
	// friendlyNameMax is the schema's limit on friendlyName.
	friendlyNameMax = 40
)

// TaskTitle is the step name in PascalCase: lint → Lint, gitops-pr → GitopsPr.
func TaskTitle(name string) string {
	var b strings.Builder
	for _, part := range strings.Split(name, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// TaskName is the task's name in a pipeline (task: GitshipLint@1).
func TaskName(s step.Step) string { return "Gitship" + TaskTitle(s.Name) }

// TaskDir is the task's folder under azure-pipelines-task/: LintV1.
func TaskDir(s step.Step) string { return fmt.Sprintf("%sV%d", TaskTitle(s.Name), TaskMajor) }

// taskNamespace derives task ids: v5 UUIDs in the URL namespace of the
// step's page, so an id follows from the name and never changes. A task
// whose id changes is a different task to Azure DevOps.
var urlNamespace = [16]byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}

// TaskID is the task's id: a name-based (version 5) UUID of the step.
func TaskID(s step.Step) string {
	return uuid5(urlNamespace, "https://github.com/"+Repo+"/steps/"+s.Name)
}

// uuid5 is RFC 9562's name-based UUID with SHA-1.
func uuid5(namespace [16]byte, name string) string {
	h := sha1.New()
	h.Write(namespace[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

type task struct {
	Schema              string       `json:"$schema"`
	ID                  string       `json:"id"`
	Name                string       `json:"name"`
	FriendlyName        string       `json:"friendlyName"`
	Description         string       `json:"description"`
	HelpMarkDown        string       `json:"helpMarkDown"`
	Category            string       `json:"category"`
	Author              string       `json:"author"`
	Version             taskVersion  `json:"version"`
	MinimumAgentVersion string       `json:"minimumAgentVersion"`
	InstanceNameFormat  string       `json:"instanceNameFormat"`
	Inputs              []taskInput  `json:"inputs"`
	OutputVariables     []taskOutput `json:"outputVariables,omitempty"`
	Execution           taskHandlers `json:"execution"`
}

// taskHandlers are the Node handlers the task declares, both running the
// shim: Node20_1 for agents from 3.232.1, Node24 for agents from 4.265.1,
// which take the highest they have.
type taskHandlers struct {
	Node20 taskExecution `json:"Node20_1"`
	Node24 taskExecution `json:"Node24"`
}

type taskVersion struct {
	Major int `json:"Major"`
	Minor int `json:"Minor"`
	Patch int `json:"Patch"`
}

type taskInput struct {
	Name         string      `json:"name"`
	Type         string      `json:"type"`
	Label        string      `json:"label"`
	DefaultValue string      `json:"defaultValue"`
	Required     bool        `json:"required"`
	HelpMarkDown string      `json:"helpMarkDown"`
	Options      pickOptions `json:"options,omitempty"`
}

// pickOptions is a pickList's options, value → label, in declared order
// (a Go map would sort them).
type pickOptions []string

func (p pickOptions) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, v := range p {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encode option %q: %w", v, err)
		}
		buf.Write(k)
		buf.WriteByte(':')
		buf.Write(k)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

type taskOutput struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

type taskExecution struct {
	Target         string `json:"target"`
	ArgumentFormat string `json:"argumentFormat"`
}

// AzureTask renders azure-pipelines-task/<Title>V<major>/task.json. The
// Node24 or Node20_1 handler runs the shim (index.js), which finds or
// downloads the step's binary and starts it; the agent passes each input as INPUT_<NAME> (upper-cased), so
// input failOn arrives as INPUT_FAILON, one of the names the step reads.
func AzureTask(s step.Step, major, minor, patch int) ([]byte, error) {
	ins, err := Inputs(s)
	if err != nil {
		return nil, err
	}
	friendly := "gitship " + s.Name
	if len(friendly) > friendlyNameMax {
		return nil, fmt.Errorf("step %q: friendly name %q is longer than %d characters", s.Name, friendly, friendlyNameMax)
	}
	t := task{
		Schema:              taskSchema,
		ID:                  TaskID(s),
		Name:                TaskName(s),
		FriendlyName:        friendly,
		Description:         s.Description,
		HelpMarkDown:        fmt.Sprintf("[gitship %s reference](%s%s.md)", s.Name, DocsURL, s.Name),
		Category:            "Build",
		Author:              "gitship",
		Version:             taskVersion{major, minor, patch},
		MinimumAgentVersion: MinimumAgentVersion,
		InstanceNameFormat:  friendly,
		Execution:           taskHandlers{Node20: taskExecution{Target: ShimFile}, Node24: taskExecution{Target: ShimFile}},
	}
	for _, in := range ins {
		ti := taskInput{
			Name:         in.Azure,
			Type:         azureType(in),
			Label:        in.Label(),
			DefaultValue: in.Default,
			Required:     in.Required,
			HelpMarkDown: azureHelp(in),
		}
		if len(in.Choices) > 0 {
			ti.Options = pickOptions(in.Choices)
		}
		t.Inputs = append(t.Inputs, ti)
	}
	for _, o := range s.Outputs {
		t.OutputVariables = append(t.OutputVariables, taskOutput{Name: step.AzureInputName(o.Name), Description: o.Description})
	}
	return marshalJSON(t)
}

func azureType(in Input) string {
	switch {
	case len(in.Choices) > 0:
		return "pickList"
	case in.Kind == Bool:
		return "boolean"
	case in.Kind == List:
		return "multiLine"
	default:
		return "string"
	}
}

func azureHelp(in Input) string {
	secret := ""
	if in.Secret {
		secret = fmt.Sprintf("Secret: pass a secret variable, e.g. `$(%s)`, never plain text; it is masked in the log", in.Azure)
	}
	return sentence(in.Usage, in.note(), secret)
}

// ShimConfig renders the step.json the shim reads next to itself to know
// which binary to start (a file rather than task.json's name: gitops-pr
// cannot be recovered from GitshipGitopsPr), and the URL template of a
// release's binaries, pinned here so a task fetches its own release's.
func ShimConfig(s step.Step) ([]byte, error) {
	if _, err := Inputs(s); err != nil {
		return nil, err
	}
	return marshalJSON(struct {
		Step        string `json:"step"`
		DownloadURL string `json:"downloadUrl"`
	}{s.Name, DownloadURL})
}

// AssetName is the file name of a step's binary among a release's assets,
// flat as a GitHub release wants them: gitship-lint-linux-amd64,
// gitship-lint-windows-amd64.exe.
func AssetName(stepName, goos, goarch string) string {
	name := "gitship-" + stepName + "-" + goos + "-" + goarch
	if goos == "windows" {
		name += ".exe"
	}
	return name
}

type vssExtension struct {
	ManifestVersion int               `json:"manifestVersion"`
	ID              string            `json:"id"`
	Publisher       string            `json:"publisher"`
	Version         string            `json:"version"`
	Name            string            `json:"name"`
	Description     string            `json:"description"`
	Public          bool              `json:"public"`
	Targets         []vssTarget       `json:"targets"`
	Categories      []string          `json:"categories"`
	Tags            []string          `json:"tags"`
	Files           []vssFile         `json:"files"`
	Contributions   []vssContribution `json:"contributions"`
}

type vssTarget struct {
	ID string `json:"id"`
}

type vssFile struct {
	Path string `json:"path"`
}

type vssContribution struct {
	ID          string            `json:"id"`
	Type        string            `json:"type"`
	Targets     []string          `json:"targets"`
	Description string            `json:"description"`
	Properties  map[string]string `json:"properties"` // one key: ordered
}

// VSSExtension renders azure-pipelines-task/vss-extension.json, the
// manifest tfx packs into one extension: a task contribution per step,
// each task folder shipped whole (task.json, index.js, step.json, and in a
// release release.json, or bin/ in the bundled variant).
func VSSExtension(steps []step.Step, version string) ([]byte, error) {
	if len(steps) == 0 {
		return nil, fmt.Errorf("extension: no steps")
	}
	if !semver.MatchString(version) {
		return nil, fmt.Errorf("extension version %q: want MAJOR.MINOR.PATCH", version)
	}
	ext := vssExtension{
		ManifestVersion: 1,
		ID:              "gitship",
		Publisher:       "gitship",
		Version:         version,
		Name:            "gitship",
		Description:     "gitship CI steps as Azure Pipelines tasks: the same binaries as the GitHub actions and Cloud Build steps.",
		Targets:         []vssTarget{{ID: "Microsoft.VisualStudio.Services"}},
		Categories:      []string{"Azure Pipelines"},
		Tags:            []string{"gitship", "gitops", "docker", "helm", "lint"},
	}
	seen := map[string]bool{}
	for _, s := range steps {
		if _, err := Inputs(s); err != nil {
			return nil, err
		}
		if seen[s.Name] {
			return nil, fmt.Errorf("extension: step %q listed twice", s.Name)
		}
		seen[s.Name] = true
		ext.Files = append(ext.Files, vssFile{Path: TaskDir(s)})
		ext.Contributions = append(ext.Contributions, vssContribution{
			ID:          "gitship-" + s.Name,
			Type:        "ms.vss-distributed-task.task",
			Targets:     []string{"ms.vss-distributed-task.tasks"},
			Description: s.Description,
			Properties:  map[string]string{"name": TaskDir(s)},
		})
	}
	return marshalJSON(ext)
}

var semver = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$`)

// marshalJSON indents with two spaces, ends with a newline and leaves <, >
// and & alone: these files are read by people as well as by tfx.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode json: %w", err)
	}
	return buf.Bytes(), nil
}
