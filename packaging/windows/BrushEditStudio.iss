; Inno Setup script for BrushEdit Studio on Windows. It wraps the PyInstaller one-folder bundle
; (dist\BrushEditStudio) built on Windows by `python packaging\build.py`.
; Build: iscc /DMyAppVersion=0.1.0 packaging\windows\BrushEditStudio.iss
; Not built or tested on the project's Linux machines: see README "Install" > Windows.

#ifndef MyAppVersion
  #define MyAppVersion "0.0.0"
#endif
#define MyAppName "BrushEdit Studio"
#define MyAppExe "BrushEditStudio.exe"
#define SourceDir "..\..\dist\BrushEditStudio"

[Setup]
AppId={{6A4D3C1E-7F0B-4C52-9E8A-2B7D51E0C9A4}
AppName={#MyAppName}
AppVersion={#MyAppVersion}
AppPublisher=BrushEdit Studio developers
DefaultDirName={autopf}\BrushEdit Studio
DefaultGroupName={#MyAppName}
OutputDir=..\..\dist
OutputBaseFilename=BrushEditStudio-{#MyAppVersion}-windows-x64-setup
SetupIconFile=..\..\resources\app_icon.ico
UninstallDisplayIcon={app}\{#MyAppExe}
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
Compression=lzma2/ultra64
SolidCompression=yes
DiskSpanning=yes
ChangesAssociations=yes
PrivilegesRequiredOverridesAllowed=dialog
WizardStyle=modern

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\{#MyAppName}"; Filename: "{app}\{#MyAppExe}"
Name: "{group}\Uninstall {#MyAppName}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#MyAppName}"; Filename: "{app}\{#MyAppExe}"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "assocora"; Description: "Open OpenRaster projects (.ora) with {#MyAppName}"; GroupDescription: "File associations:"

[Registry]
Root: HKA; Subkey: "Software\Classes\.ora\OpenWithProgids"; ValueType: string; ValueName: "BrushEditStudio.ora"; ValueData: ""; Flags: uninsdeletevalue; Tasks: assocora
Root: HKA; Subkey: "Software\Classes\BrushEditStudio.ora"; ValueType: string; ValueName: ""; ValueData: "OpenRaster project"; Flags: uninsdeletekey; Tasks: assocora
Root: HKA; Subkey: "Software\Classes\BrushEditStudio.ora\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#MyAppExe},0"; Tasks: assocora
Root: HKA; Subkey: "Software\Classes\BrushEditStudio.ora\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#MyAppExe}"" ""%1"""; Tasks: assocora

[Run]
Filename: "{app}\{#MyAppExe}"; Description: "{cm:LaunchProgram,{#MyAppName}}"; Flags: nowait postinstall skipifsilent
