#!/bin/sh
curl -H "Authorization: Bearer Qz7RkW2mLx9TbV4nHs8JpYc3Ty6Ud1Fo0Ge5" https://api.toolz.io/v1
