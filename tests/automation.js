// SPDX-License-Identifier: MIT
// OpenDO from JScript: a download of byte ranges with progress, Enumerator over the manager's
// jobs and a job's files, and errors as exceptions.
//   cscript //nologo automation.js <base URL ending in /> <scratch folder>
// Wine's cscript ends a script that throws without a word and with exit code 0, so the test
// passes only when the last line, "PASS: automation.js", is printed.

function check(condition, what) {
    WScript.Echo((condition ? "ok: " : "FAIL: ") + what);
    if (!condition)
        WScript.Quit(1);
}

function hex(number) {
    return (number >>> 0).toString(16).toUpperCase();
}

var base = WScript.Arguments(0), scratch = WScript.Arguments(1);
var fso = new ActiveXObject("Scripting.FileSystemObject");
if (fso.FolderExists(scratch))
    fso.DeleteFolder(scratch, true);
fso.CreateFolder(scratch);
var target = scratch + "\\ranges.bin";

var manager = new ActiveXObject("OpenDO.Manager");
var job = manager.CreateJob("JScript ranges");
// ranges.bin is 8 MiB: its first 16 bytes and everything from 1 MiB on.
job.AddFileWithRanges(base + "throttled/ranges.bin", target, "0:16, 1048576:eof");
job.Priority = 1;
check(job.Priority == 1, "Priority can be set (HIGH)");
job.Resume();

// Wine's cscript has no WScript.Sleep: poll, for at most a minute.
var deadline = new Date().getTime() + 60000, state, middle = false;
for (;;) {
    state = job.StateName;
    if (state == "TRANSFERRED" || state == "ERROR" || new Date().getTime() > deadline)
        break;
    var moved = job.BytesTransferred, total = job.BytesTotal;
    if (total > 0 && moved > 0 && moved < total)
        middle = true;
}
check(state == "TRANSFERRED", "the job is TRANSFERRED (" + state + ")");
check(middle, "progress was seen between 0 and the total");
var expected = 16 + 8388608 - 1048576;
check(job.BytesTotal == expected && job.BytesTransferred == expected,
      "BytesTotal = BytesTransferred = the ranges' " + expected + " bytes (" + job.BytesTotal + ")");

var count = 0;
for (var e = new Enumerator(job.Files); !e.atEnd(); e.moveNext()) {
    count++;
    check(e.item().LocalName == target && e.item().BytesTotal == expected, "the file's name and size");
}
check(count == 1, "Enumerator over job.Files gives its one file");

var id = job.Id, seen = 0;
for (var e = new Enumerator(manager.Jobs); !e.atEnd(); e.moveNext())
    seen += e.item().Id == id ? 1 : 0;
check(seen == 1, "Enumerator over manager.Jobs sees the job once");
check(manager.Jobs.Item(0).Id.length == 38, "Jobs.Item(0) is a job");

job.Complete();
check(fso.GetFile(target).Size == expected, "the ranges are in the file after Complete");

try {
    manager.GetJob("not a GUID");
    check(false, "GetJob of a malformed id throws");
} catch (error) {
    check(hex(error.number) == "80070057", "a malformed id: E_INVALIDARG (" + hex(error.number) + ")");
    check(error.description.indexOf("GUID") >= 0, "with a text: " + error.description);
}
try {
    manager.GetJob(id);
    check(false, "GetJob of an acknowledged job throws");
} catch (error) {
    check(hex(error.number) == "80200001", "an acknowledged job is gone: BG_E_NOT_FOUND (" +
          hex(error.number) + ")");
    check(error.description == manager.GetErrorDescription(error.number),
          "with its text: " + error.description);
}
WScript.Echo("PASS: automation.js");
