"""Drives a stdio MCP server the way a gateway does, with the official MCP Python SDK's stdio client.

usage: mcp_stdio_client.py COMMAND [ARG...]

Starts COMMAND (for example `corral run -- mcp-server-time`), performs initialize, lists the tools, calls
get_current_time when the server has it, then closes the session (stdin EOF, as the SDK shuts servers down).
Prints one JSON object with what it saw and exits 0, or exits 1 with the error.
"""
import asyncio
import json
import os
import sys
import time

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


async def main(command, args):
    started = time.monotonic()
    # The SDK passes only a small allowlist of variables (HOME, PATH, ...): exactly what a gateway gives corral.
    server = StdioServerParameters(command=command, args=args)
    async with stdio_client(server) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            tools = await session.list_tools()
            report = {
                "server": init.server_info.name,
                "version": init.server_info.version,
                "tools": sorted(tool.name for tool in tools.tools),
                "initialize_seconds": round(time.monotonic() - started, 2),
            }
            if "get_current_time" in report["tools"]:
                result = await session.call_tool("get_current_time", {"timezone": "UTC"})
                report["get_current_time"] = result.content[0].text if result.content else None
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    try:
        asyncio.run(main(sys.argv[1], sys.argv[2:]))
    except Exception as error:  # report any failure in one line for the caller
        print(f"mcp_stdio_client: {type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(1)
