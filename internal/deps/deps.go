// Package deps pins the modules perfbot's packages use while they are being wired together.
package deps

import (
	_ "github.com/google/uuid"
	_ "github.com/gorilla/websocket"
	_ "github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/prometheus/client_golang/api/prometheus/v1"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/redis/go-redis/v9"
	_ "github.com/santhosh-tekuri/jsonschema/v6"
	_ "github.com/slack-go/slack/socketmode"
	_ "gonum.org/v1/plot/vg/vgimg"
	_ "k8s.io/client-go/kubernetes"
	_ "k8s.io/client-go/tools/clientcmd"
	_ "k8s.io/apimachinery/pkg/api/resource"
	_ "gopkg.in/yaml.v3"
	_ "sigs.k8s.io/yaml"
)
