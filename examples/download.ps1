# SPDX-License-Identifier: MIT
# The same download from PowerShell, through OpenDO's automation interface (README, "Using it
# from scripts"). Not run by the tests: PowerShell does not run under Wine here.
#   powershell -File download.ps1 <url> <absolute local path>
param(
    [Parameter(Mandatory = $true)][string]$Url,
    [Parameter(Mandatory = $true)][string]$Path
)
$ErrorActionPreference = 'Stop'

$manager = New-Object -ComObject OpenDO.Manager
$job = $manager.CreateJob('OpenDO PowerShell example')
try {
    $job.AddFile($Url, $Path)
    $job.Resume()
    while ($job.StateName -ne 'TRANSFERRED' -and $job.StateName -ne 'ERROR') {
        if ($job.BytesTotal -ge 0) {
            Write-Host ("{0} of {1} bytes" -f $job.BytesTransferred, $job.BytesTotal)
        }
        Start-Sleep -Milliseconds 250
    }
    if ($job.StateName -eq 'ERROR') {
        throw ("the job failed: 0x{0:X8} {1}" -f $job.ErrorCode, $job.ErrorDescription)
    }
    # The file appears at its local name only now.
    $job.Complete()
    Write-Host ("done: {0} bytes in {1}" -f $job.BytesTransferred, $Path)
}
catch {
    $job.Cancel()
    throw
}
