' SPDX-License-Identifier: MIT
' The same download from VBScript, through OpenDO's automation interface (README, "Using it from
' scripts"). The DLL must be registered (regsvr32 opendo.dll).
'   cscript //nologo download.vbs <url> <absolute local path>
' Prints "PASS" as its last line when the file is in place: Wine's cscript exits with 0 even
' when a script dies of an error it does not handle, so callers look for that line.
Option Explicit

Dim url, path, manager, job, state, deadline, shown

If WScript.Arguments.Count <> 2 Then
    WScript.Echo "usage: cscript //nologo download.vbs <url> <absolute local path>"
    WScript.Quit 2
End If
url = WScript.Arguments(0)
path = WScript.Arguments(1)

Set manager = CreateObject("OpenDO.Manager")
Set job = manager.CreateJob("OpenDO VBScript example")
job.AddFile url, path
job.Resume

' Wine's cscript has no WScript.Sleep: poll, for at most two minutes, and print each new count.
deadline = DateAdd("s", 120, Now)
shown = -2
Do
    state = job.StateName
    If state = "TRANSFERRED" Or state = "ERROR" Or Now > deadline Then Exit Do
    If job.BytesTransferred <> shown And job.BytesTotal >= 0 Then
        shown = job.BytesTransferred
        WScript.Echo shown & " of " & job.BytesTotal & " bytes"
    End If
Loop

If state <> "TRANSFERRED" Then
    WScript.Echo "FAIL: the job is " & state & ": " & Hex(job.ErrorCode) & " " & job.ErrorDescription
    job.Cancel
    WScript.Quit 1
End If
' The file appears at its local name only now.
shown = job.BytesTransferred
job.Complete
WScript.Echo "done: " & shown & " bytes in " & path
WScript.Echo "PASS"
