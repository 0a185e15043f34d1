#!/bin/sh
cp agent.plist ~/Library/LaunchAgents/com.helper.agent.plist
launchctl load ~/Library/LaunchAgents/com.helper.agent.plist
