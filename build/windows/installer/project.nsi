Unicode true
# A 64-bit installer for a 64-bit app: it sees the 64-bit Program Files and
# registry natively.
Target amd64-unicode
SetCompressor /SOLID lzma

# Switchboard's Windows installer: per-machine, silent-capable, with a preset
# relay address. `wails build -platform windows/amd64 -nsis` compiles it
# (make dist-windows); wails writes wails_tools.nsh beside it on every build.
#
# Command line (see docs/deploy.md):
#   /S                   silent
#   /SERVER=wss://...    write %ProgramData%\Switchboard\app.yaml with server:
#   /LOCK                with /SERVER: also lock it (locked: [server])
#   /LANGUAGE=auto|en|sv with /SERVER: also preset the UI language
#   /AUTOSTART           start with Windows, hidden in the tray (HKLM Run, --hidden)
#   /NOAUTOSTART         remove that again
#   /D=C:\path           install folder (must be last; default Program Files\Switchboard)
# Uninstaller: uninstall.exe /S [/PURGE]  (/PURGE also deletes app.yaml)
#
# Exit codes: 0 done, 1 cancelled, 2 aborted (e.g. an invalid /SERVER or
# /LANGUAGE), 64 Windows older than 10, 65 unsupported CPU architecture.

# The version comes from make (SWITCHBOARD_VERSION, SWITCHBOARD_WIN_VERSION =
# X.Y.Z.N); a bare `wails build -nsis` falls back to wails.json.
!if "$%SWITCHBOARD_WIN_VERSION%" != "${U+24}%SWITCHBOARD_WIN_VERSION%"
    !define SB_WIN_VERSION "$%SWITCHBOARD_WIN_VERSION%"
    !define SB_VERSION "$%SWITCHBOARD_VERSION%"
    !searchparse "${SB_WIN_VERSION}" "" SB_V1 "." SB_V2 "." SB_V3 "."
    !define INFO_PRODUCTVERSION "${SB_V1}.${SB_V2}.${SB_V3}"
!endif

!define INFO_COMPANYNAME "Switchboard"
!define INFO_PRODUCTNAME "Switchboard"
!define UNINST_KEY_NAME  "Switchboard"
!define REQUEST_EXECUTION_LEVEL "admin"

!include "wails_tools.nsh"
!include "LogicLib.nsh"
!include "FileFunc.nsh"

!define /ifndef SB_WIN_VERSION "${INFO_PRODUCTVERSION}.0"
!define /ifndef SB_VERSION "${INFO_PRODUCTVERSION}"

!define RUN_KEY "Software\Microsoft\Windows\CurrentVersion\Run"
!define CONFIG_DIR_NAME "Switchboard"
!define CONFIG_FILE_NAME "app.yaml"

VIProductVersion "${SB_WIN_VERSION}"
VIFileVersion    "${SB_WIN_VERSION}"
VIAddVersionKey "CompanyName"     "${INFO_COMPANYNAME}"
VIAddVersionKey "FileDescription" "${INFO_PRODUCTNAME} Installer"
VIAddVersionKey "ProductVersion"  "${SB_VERSION}"
VIAddVersionKey "FileVersion"     "${SB_WIN_VERSION}"
VIAddVersionKey "LegalCopyright"  "${INFO_COPYRIGHT}"
VIAddVersionKey "ProductName"     "${INFO_PRODUCTNAME}"

ManifestDPIAware true

!include "MUI2.nsh"

!define MUI_ICON "..\icon.ico"
!define MUI_UNICON "..\icon.ico"
!define MUI_ABORTWARNING

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

Name "${INFO_PRODUCTNAME}"
OutFile "..\..\bin\${INFO_PROJECTNAME}-${ARCH}-installer.exe"
InstallDir "$PROGRAMFILES64\${INFO_PRODUCTNAME}"
ShowInstDetails show
ShowUninstDetails show

Var Server
Var Lock
Var UiLanguage
Var Autostart

# Fail: in silent mode set the exit code and quit; otherwise tell the user.
!macro SB_FAIL MSG
    IfSilent +2
        MessageBox MB_OK|MB_ICONSTOP "${MSG}" /SD IDOK
    SetErrorLevel 2
    Quit
!macroend

# CheckServer: $Server must be ws:// or wss:// followed by printable ASCII
# without quotes, backslashes, spaces or #, so it can be written into YAML
# as a quoted string unchanged. Sets $0 to "ok" or "bad".
Function CheckServer
    Push $1
    Push $2
    Push $3
    StrCpy $0 "bad"
    StrCpy $1 $Server 6
    StrCpy $2 $Server 5
    ${If} $1 == "wss://"
        StrCpy $3 6
    ${ElseIf} $2 == "ws://"
        StrCpy $3 5
    ${Else}
        Goto done
    ${EndIf}
    StrLen $1 $Server
    ${If} $1 <= $3
        Goto done
    ${EndIf}
    ${Do}
        StrCpy $2 $Server 1 $3
        ${If} $2 == ""
            ${Break}
        ${EndIf}
        ${If} $2 == '"'
        ${OrIf} $2 == "'"
        ${OrIf} $2 == "\"
        ${OrIf} $2 == " "
        ${OrIf} $2 == "#"
        ${OrIf} $2 == "$\t"
        ${OrIf} $2 == "$\r"
        ${OrIf} $2 == "$\n"
            Goto done
        ${EndIf}
        IntOp $3 $3 + 1
    ${Loop}
    StrCpy $0 "ok"
done:
    Pop $3
    Pop $2
    Pop $1
FunctionEnd

# GetArg: finds the option named by the top of the stack (e.g. "/SERVER=")
# in the command line and pushes its value, up to the next space or, when
# quoted, the closing quote; pushes "?" when absent. ${GetOptions} cannot be
# used for values: it stops at the next "/", which every URL has.
Function GetArg
    Exch $R1 # option
    Push $R0
    Push $R2
    Push $R3
    Push $R4
    Push $R5
    ${GetParameters} $R0
    StrLen $R2 $R1
    StrLen $R3 $R0
    StrCpy $R4 0
    StrCpy $R5 "?"
    ${While} $R4 < $R3
        StrCpy $0 $R0 $R2 $R4
        ${If} $0 == $R1 # case-insensitive
            IntOp $1 $R4 - 1
            StrCpy $2 " "
            ${If} $R4 > 0
                StrCpy $2 $R0 1 $1
            ${EndIf}
            ${If} $2 == " "
                IntOp $R4 $R4 + $R2
                StrCpy $R5 ""
                StrCpy $3 " "
                StrCpy $0 $R0 1 $R4
                ${If} $0 == '"'
                    StrCpy $3 '"'
                    IntOp $R4 $R4 + 1
                ${EndIf}
                ${Do}
                    StrCpy $0 $R0 1 $R4
                    ${If} $0 == ""
                    ${OrIf} $0 == $3
                        ${Break}
                    ${EndIf}
                    StrCpy $R5 "$R5$0"
                    IntOp $R4 $R4 + 1
                ${Loop}
                ${Break}
            ${EndIf}
        ${EndIf}
        IntOp $R4 $R4 + 1
    ${EndWhile}
    StrCpy $R1 $R5
    Pop $R5
    Pop $R4
    Pop $R3
    Pop $R2
    Pop $R0
    Exch $R1
FunctionEnd

Function .onInit
    !insertmacro wails.checkArchitecture

    # Reinstalls and upgrades go where the previous install went, unless /D says otherwise.
    SetRegView 64
    ReadRegStr $0 HKLM "${UNINST_KEY}" "InstallLocation"
    ${If} $0 != ""
    ${AndIf} $INSTDIR == "$PROGRAMFILES64\${INFO_PRODUCTNAME}"
        StrCpy $INSTDIR $0
    ${EndIf}

    Push "/SERVER="
    Call GetArg
    Pop $Server
    ${If} $Server == "?"
        StrCpy $Server ""
    ${ElseIf} $Server == ""
        !insertmacro SB_FAIL "/SERVER= needs an address, e.g. /SERVER=wss://chat.example.com"
    ${EndIf}
    Push "/LANGUAGE="
    Call GetArg
    Pop $UiLanguage
    ${If} $UiLanguage == "?"
        StrCpy $UiLanguage ""
    ${EndIf}

    Push "/LOCK"
    Call GetArg
    Pop $1
    ${If} $1 == ""
        StrCpy $Lock "1"
    ${EndIf}
    Push "/NOAUTOSTART"
    Call GetArg
    Pop $1
    ${If} $1 == ""
        StrCpy $Autostart "remove"
    ${EndIf}
    Push "/AUTOSTART"
    Call GetArg
    Pop $1
    ${If} $1 == ""
        StrCpy $Autostart "add"
    ${EndIf}

    ${If} $Server != ""
        Call CheckServer
        ${If} $0 != "ok"
            !insertmacro SB_FAIL "/SERVER must be a ws:// or wss:// address without spaces or quotes."
        ${EndIf}
    ${ElseIf} $Lock == "1"
        !insertmacro SB_FAIL "/LOCK needs /SERVER=wss://..."
    ${ElseIf} $UiLanguage != ""
        !insertmacro SB_FAIL "/LANGUAGE needs /SERVER=wss://..."
    ${EndIf}
    ${If} $UiLanguage != ""
    ${AndIf} $UiLanguage != "auto"
    ${AndIf} $UiLanguage != "en"
    ${AndIf} $UiLanguage != "sv"
        !insertmacro SB_FAIL "/LANGUAGE must be auto, en or sv."
    ${EndIf}
FunctionEnd

# The machine-wide settings file the app reads (app/config), owned by
# administrators: %ProgramData%\Switchboard\app.yaml.
Function WriteMachineConfig
    ReadEnvStr $1 "ProgramData"
    ${If} $1 == ""
        StrCpy $1 $APPDATA # all users' application data (SetShellVarContext all)
    ${EndIf}
    StrCpy $1 "$1\${CONFIG_DIR_NAME}"
    CreateDirectory $1
    ClearErrors
    FileOpen $2 "$1\${CONFIG_FILE_NAME}" w
    ${If} ${Errors}
        DetailPrint "Could not write $1\${CONFIG_FILE_NAME}"
        SetErrorLevel 2
        Abort
    ${EndIf}
    FileWrite $2 "# Switchboard machine-wide settings, written by the installer.$\r$\n"
    FileWrite $2 "# Users cannot change locked settings. See docs/deploy.md.$\r$\n"
    FileWrite $2 'server: "$Server"$\r$\n'
    ${If} $UiLanguage != ""
        FileWrite $2 "language: $UiLanguage$\r$\n"
    ${EndIf}
    ${If} $Lock == "1"
        FileWrite $2 "locked: [server]$\r$\n"
    ${EndIf}
    FileClose $2
    DetailPrint "Wrote $1\${CONFIG_FILE_NAME} (server $Server)"
FunctionEnd

Section
    !insertmacro wails.setShellContext
    SetRegView 64

    !insertmacro wails.webview2runtime

    # A running copy would keep its executable locked.
    nsExec::Exec 'taskkill /F /IM "${PRODUCT_EXECUTABLE}"'
    Pop $0

    SetOutPath $INSTDIR
    !insertmacro wails.files

    CreateShortcut "$SMPROGRAMS\${INFO_PRODUCTNAME}.lnk" "$INSTDIR\${PRODUCT_EXECUTABLE}"

    ${If} $Server != ""
        Call WriteMachineConfig
    ${EndIf}

    SetRegView 64
    ${If} $Autostart == "add"
        WriteRegStr HKLM "${RUN_KEY}" "${INFO_PRODUCTNAME}" '"$INSTDIR\${PRODUCT_EXECUTABLE}" --hidden'
        DetailPrint "Starts with Windows, hidden in the tray"
    ${ElseIf} $Autostart == "remove"
        DeleteRegValue HKLM "${RUN_KEY}" "${INFO_PRODUCTNAME}"
    ${EndIf}

    !insertmacro wails.writeUninstaller
    WriteRegStr HKLM "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
    WriteRegDWORD HKLM "${UNINST_KEY}" "NoModify" 1
    WriteRegDWORD HKLM "${UNINST_KEY}" "NoRepair" 1
SectionEnd

Var Purge

Function un.onInit
    ${GetParameters} $R0
    ClearErrors
    ${GetOptions} $R0 "/PURGE" $1
    ${IfNot} ${Errors}
        StrCpy $Purge "1"
    ${EndIf}
FunctionEnd

Section "uninstall"
    !insertmacro wails.setShellContext
    SetRegView 64

    nsExec::Exec 'taskkill /F /IM "${PRODUCT_EXECUTABLE}"'
    Pop $0

    Delete "$INSTDIR\${PRODUCT_EXECUTABLE}"
    Delete "$SMPROGRAMS\${INFO_PRODUCTNAME}.lnk"
    DeleteRegValue HKLM "${RUN_KEY}" "${INFO_PRODUCTNAME}"

    # app.yaml is the administrator's: kept unless /PURGE.
    ${If} $Purge == "1"
        ReadEnvStr $1 "ProgramData"
        ${If} $1 == ""
            StrCpy $1 $APPDATA
        ${EndIf}
        Delete "$1\${CONFIG_DIR_NAME}\${CONFIG_FILE_NAME}"
        RMDir "$1\${CONFIG_DIR_NAME}"
    ${EndIf}

    !insertmacro wails.deleteUninstaller
    RMDir $INSTDIR
SectionEnd
