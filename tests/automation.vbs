' SPDX-License-Identifier: MIT
' OpenDO from VBScript, as the README shows it: a download with progress, For Each over the
' manager's jobs and a job's files, and errors in Err.
'   cscript //nologo automation.vbs <base URL ending in /> <scratch folder>
' Wine's cscript ends a script that raises an error it does not handle without a word and with
' exit code 0, so the test passes only when the last line, "PASS: automation.vbs", is printed.
Option Explicit

Dim base, scratch, fso, manager, job, file, item, other, count, found, deadline, state
Dim middle, target, number, description, ids(1), i

Sub Check(condition, what)
    If condition Then
        WScript.Echo "ok: " & what
    Else
        WScript.Echo "FAIL: " & what
        WScript.Quit 1
    End If
End Sub

base = WScript.Arguments(0)
scratch = WScript.Arguments(1)
Set fso = CreateObject("Scripting.FileSystemObject")
If fso.FolderExists(scratch) Then fso.DeleteFolder scratch, True
fso.CreateFolder scratch
target = scratch & "\4m.bin"

Set manager = CreateObject("OpenDO.Manager")
Check TypeName(manager) = "IOpenDOManager", "CreateObject(""OpenDO.Manager"") is scriptable"
Set job = manager.CreateJob("VBScript download")
Check job.StateName = "SUSPENDED" And job.State = 3, "a new job is SUSPENDED (3)"
job.DisplayName = "VBScript download, renamed"
Check job.DisplayName = "VBScript download, renamed", "DisplayName can be set"
Check TypeName(job.BytesTotal) = "Double", "sizes are Doubles"
job.AddFile base & "throttled/4m.bin", target
Check job.BytesTotal = -1, "BytesTotal is -1 while the size is not known"
job.Resume

' Progress. Wine's cscript has no WScript.Sleep: poll, for at most a minute.
deadline = DateAdd("s", 60, Now)
middle = False
Do
    state = job.StateName
    If state = "TRANSFERRED" Or state = "ERROR" Or Now > deadline Then Exit Do
    If job.BytesTotal > 0 And job.BytesTransferred > 0 And job.BytesTransferred < job.BytesTotal Then
        middle = True
    End If
Loop
Check state = "TRANSFERRED", "the job is TRANSFERRED (" & state & ")"
Check middle, "progress was seen between 0 and the total"
Check job.BytesTransferred = 4194304 And job.BytesTotal = 4194304, "4194304 of 4194304 bytes"
Check job.FilesTransferred = 1 And job.FilesTotal = 1, "1 of 1 files"
Check job.ErrorCode = 0 And job.ErrorDescription = "", "no error"

count = 0
For Each file In job.Files
    count = count + 1
    Check file.RemoteName = base & "throttled/4m.bin", "the file's RemoteName"
    Check file.LocalName = target, "the file's LocalName"
    Check file.BytesTotal = 4194304 And file.BytesTransferred = 4194304, "the file's sizes"
Next
Check count = 1, "For Each over job.Files gives its one file"
Check job.Files.Count = 1 And job.Files(0).LocalName = target, "job.Files.Count and job.Files(0)"

' For Each over the manager's jobs sees each job once.
For i = 0 To 1
    Set other = manager.CreateJob("VBScript listed")
    ids(i) = other.Id
Next
found = 0
count = 0
For Each item In manager.Jobs
    count = count + 1
    If item.Id = ids(0) Or item.Id = ids(1) Or item.Id = job.Id Then found = found + 1
Next
Check found = 3, "For Each over manager.Jobs sees the three jobs"
Check count = manager.Jobs.Count, "as many as Jobs.Count"
Check manager.GetJob(ids(0)).DisplayName = "VBScript listed", "GetJob finds a job by its Id"

job.Complete
Check job.StateName = "ACKNOWLEDGED", "Complete acknowledges the job"
Check fso.FileExists(target), "the file is at its name after Complete"
Check fso.GetFile(target).Size = 4194304, "with all its bytes"

' Errors: Err.Number is the HRESULT, Err.Description its text.
On Error Resume Next
Set item = manager.GetJob("{0BADC0DE-1234-5678-9ABC-DEF012345678}")
number = Err.Number
description = Err.Description
On Error GoTo 0
Check number = &H80200001, "GetJob of an unknown id: Err.Number is BG_E_NOT_FOUND (" & Hex(number) & ")"
Check Len(description) > 0 And description = manager.GetErrorDescription(number), _
    "Err.Description is its text: " & description

On Error Resume Next
job.Resume
number = Err.Number
description = Err.Description
On Error GoTo 0
Check number = &H80200002, "Resume of an acknowledged job: BG_E_INVALID_STATE (" & Hex(number) & ")"
Check Len(description) > 0, "with a text: " & description

On Error Resume Next
other.AddFileWithRanges base & "ranges.bin", scratch & "\ranges.bin", "10-20"
number = Err.Number
description = Err.Description
On Error GoTo 0
Check number = &H80070057, "a malformed ranges string: E_INVALIDARG (" & Hex(number) & ")"
Check InStr(description, "offset:length") > 0, "with a text that shows the form: " & description

For i = 0 To 1
    manager.GetJob(ids(i)).Cancel
Next
Check other.StateName = "CANCELLED", "Cancel"
WScript.Echo "PASS: automation.vbs"
