; Inno Setup script for Deep Dive Lab on Windows (UNTESTED: these Linux machines cannot
; build or run it). A release engineer on Windows:
;   1. make sure a C/C++ compiler (Visual Studio Build Tools) is installed, then
;      python packaging\build_llama.py --install   (the portable llama.cpp, MSVC variants)
;      pip install -e .[package]
;   2. python packaging\build_package.py          (dist\DeepDiveLab\ and the frozen --selftest)
;   3. iscc packaging\windows\deepdive-lab.iss     (dist\deepdive-lab-setup.exe)
; The installer associates .gguf files with the app: double-clicking one opens it in Chat.

#define AppName "Deep Dive Lab"
#define AppVersion "0.1.0"

[Setup]
AppId={{6C6E2E2B-3D2A-4C4F-9B0E-DEEPD1VE1AB0}
AppName={#AppName}
AppVersion={#AppVersion}
DefaultDirName={autopf}\Deep Dive Lab
DefaultGroupName=Deep Dive Lab
OutputDir=..\..\dist
OutputBaseFilename=deepdive-lab-setup
Compression=lzma2
SolidCompression=yes
ArchitecturesInstallIn64BitMode=x64compatible
ChangesAssociations=yes
SetupIconFile=..\..\resources\icon.ico

[Files]
Source: "..\..\dist\DeepDiveLab\*"; DestDir: "{app}"; Flags: recursesubdirs ignoreversion

[Icons]
Name: "{group}\Deep Dive Lab"; Filename: "{app}\deepdive-lab.exe"
Name: "{autodesktop}\Deep Dive Lab"; Filename: "{app}\deepdive-lab.exe"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "Create a desktop icon"; Flags: unchecked

[Registry]
Root: HKA; Subkey: "Software\Classes\.gguf"; ValueType: string; ValueName: ""; ValueData: "DeepDiveLab.gguf"; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\DeepDiveLab.gguf"; ValueType: string; ValueName: ""; ValueData: "GGUF model"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\DeepDiveLab.gguf\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\deepdive-lab.exe"" ""%1"""

[Run]
Filename: "{app}\deepdive-lab.exe"; Description: "Start Deep Dive Lab"; Flags: nowait postinstall skipifsilent
