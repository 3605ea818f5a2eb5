package validation

import "testing"

const tmpl = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "app.fullname" . }}
  labels:
    {{- include "app.labels" . | nindent 4 }}
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
  template:
    spec:
      containers:
        - name: {{ .Chart.Name }}
          image: "{{ .Values.image.repository }}"
          ports:
            - name: http
              containerPort: {{ .Values.service.port }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
      "nodeName": x
`

func TestTemplateLine(t *testing.T) {
	for _, tc := range []struct {
		pointer string
		want    int
	}{
		{"/spec/template/spec/containers/0/ports/0/containerPort", 18},
		{"/spec/replicas", 9},
		{"/spec/template/spec/containers/0/image", 15},
		{"/metadata/name", 4},
		{"/spec/template/spec/nodeName", 21},
		// From toYaml: not spelled out in the template, so no line.
		{"/spec/template/spec/containers/0/resources/limits/cpu", 0},
		{"/metadata/labels/app", 0},
		{"/spec/selector", 0},
	} {
		if got := templateLine([]byte(tmpl), splitPointer(tc.pointer)); got != tc.want {
			t.Errorf("templateLine(%q) = %d, want %d", tc.pointer, got, tc.want)
		}
	}
}
