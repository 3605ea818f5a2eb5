# escape=`
FROM mcr.microsoft.com/windows/servercore:ltsc2022
SHELL ["powershell", "-Command", "$ErrorActionPreference = 'Stop';"]
RUN Invoke-WebRequest https://example.com/x.zip -OutFile x.zip | Out-Null; `
    cd C:\app
WORKDIR C:\app
CMD ["app.exe"]
