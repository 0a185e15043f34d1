package main

import (
	_ "github.com/jackc/pgx/v5"
	_ "github.com/pressly/goose/v3"
	_ "go.yaml.in/yaml/v3"
)

func main() {}
